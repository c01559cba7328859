"""The llm planner against a real chat-completions server on 127.0.0.1.

The server is Python's ``http.server`` in a thread, speaking the OpenAI chat-completions
protocol (POST /v1/chat/completions -> the standard JSON) with scripted answers. The
real ``openai`` client talks to it over HTTP; nothing is mocked.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from chat_server import Script, chat_server
from spa2v.errors import BackendUnavailableError, LayoutError
from spa2v.hearing.cues import Cues, CueTrack, Label
from spa2v.planning import plan
from spa2v.planning.bank import ExampleBank, make_record
from spa2v.planning.features import FEATURE_NAMES
from spa2v.planning.llm import extract_json, fallback_warning, plan_llm, repair_layout
from spa2v.planning.physics import plan_physics
from spa2v.planning.vsl import parse_vsl


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with chat_server() as running:
        yield running


# --- cues and an example bank made in the test -----------------------------------------

HOP_S = 0.025


def _cues(
    az_start: float,
    az_end: float,
    level_change_db: float,
    label: tuple[str, str, str],
    duration_s: float = 4.0,
    peak_db: float = 0.0,
) -> Cues:
    """One source whose azimuth goes linearly from ``az_start`` to ``az_end`` and whose
    level changes by ``level_change_db`` (plus a pass-by bump of ``peak_db``)."""
    t = np.arange(0.0, duration_s, HOP_S)
    u = t / duration_s
    level = -30.0 + level_change_db * u + peak_db * np.exp(-(((u - 0.5) / 0.15) ** 2))
    track = CueTrack(
        source_id=0,
        times_s=t,
        active=np.ones(t.size, bool),
        loudness_db=level,
        azimuth_deg=az_start + (az_end - az_start) * u,
        azimuth_confidence=np.full(t.size, 0.9),
        labels=[Label(label[0], 0.8, label[1], label[2])],
    )
    return Cues(duration_s=duration_s, sr=48000, layout="binaural", hop_s=HOP_S, sources=[track])


CAR = ("Car", "car", "vehicle")
PIANO = ("Piano", "piano", "instrument")
BANK_CUES = {
    "piano-left": _cues(30, 30, 0, PIANO),
    "piano-right": _cues(-30, -30, 0, PIANO),
    "piano-centre": _cues(0, 0, 0, PIANO),
    "car-rtl": _cues(-60, 60, 0, CAR, peak_db=10),
    "car-ltr": _cues(60, -60, 0, CAR, peak_db=10),
    "car-approach": _cues(5, 5, 15, CAR),
    "car-recede": _cues(-5, -5, -15, CAR),
    "car-rtl-slow": _cues(-30, 20, 0, CAR, peak_db=6),
}


@pytest.fixture
def bank_path(tmp_path: Path) -> Path:
    bank = ExampleBank()
    for name, cues in BANK_CUES.items():
        bank.add(make_record(cues, plan_physics(cues, fps=2.0), name, origin="test"))
    return bank.save(tmp_path / "bank.jsonl")


def expected_nearest(bank_file: Path, query: np.ndarray, k: int = 3) -> list[str]:
    """The k nearest record ids, computed here from the file: z-scored Euclidean."""
    records = [json.loads(line) for line in bank_file.read_text().splitlines() if line]
    feats = np.array([r["features"] for r in records])
    std = feats.std(0)  # z-scoring: the mean cancels in a difference
    keep = std > 1e-9  # a constant feature does not rank anything
    # The documented weights: label-family one-hot entries count a quarter each.
    weight = np.array([0.25 if n.startswith("family_") else 1.0 for n in FEATURE_NAMES])
    z2 = ((feats[:, keep] - query[keep]) / std[keep]) ** 2
    d = np.sqrt((weight[keep] * z2).sum(1))
    return [records[i]["id"] for i in np.argsort(d, kind="stable")[:k]]


def _answer_layout(cues: Cues) -> dict[str, Any]:
    """A valid layout that differs from the physics planner's (a 'director's' choice)."""
    return {
        "schema": "spa2v.vsl/1",
        "duration": cues.duration_s,
        "fps": 1.0,
        "caption": "a red car drives past from right to left on a street",
        "background": "a city street at dusk",
        "objects": [{"id": 0, "name": "car", "audio_label": "Car", "motion": "right-to-left"}],
        "frames": [
            {"t": float(t), "caption": "", "boxes": [{"id": 0, "box": [x, 0.45, x + 0.2, 0.6]}]}
            for t, x in zip(range(5), (0.8, 0.6, 0.4, 0.2, 0.0), strict=True)
        ],
        "reasoning": "azimuth goes from right to left, so the car crosses right to left",
    }


def _fenced(layout: dict[str, Any]) -> str:
    return (
        "Reasoning: the source moves from negative to positive azimuth, i.e. right to "
        f"left, and is loudest mid-clip.\n\n```json\n{json.dumps(layout, indent=1)}\n```\n"
    )


QUERY = _cues(-55, 50, 0, CAR, peak_db=9)


def _example_ids(request: dict[str, Any]) -> list[str]:
    user = request["messages"][1]["content"]
    text = user if isinstance(user, str) else user[0]["text"]
    return re.findall(r"### Example \d+ \(id: ([^)]+)\)", text)


# --- the tests ---------------------------------------------------------------------------


def test_good_answer_is_used_and_request_carries_nearest_examples(server, bank_path):
    base_url, script = server
    script.answers = [_fenced(_answer_layout(QUERY))]
    vsl = plan_llm(QUERY, base_url=base_url, model="director-1", bank=bank_path, timeout_s=10)

    assert vsl.caption == "a red car drives past from right to left on a street"
    assert [f.boxes[0].box[0] for f in vsl.frames] == [0.8, 0.6, 0.4, 0.2, 0.0]
    assert "planned by the llm planner (director-1" in vsl.reasoning
    assert len(script.requests) == 1 and script.paths == ["/v1/chat/completions"]

    request = script.requests[0]
    assert request["model"] == "director-1"
    system, user = request["messages"][0], request["messages"][1]
    assert system["role"] == "system" and "director" in system["content"]
    assert "POSITIVE = to the LEFT" in system["content"]
    # The cues of this recording are described in the user message.
    own = user["content"].split("### Your recording")[1]
    assert re.search(r"azimuth from -\d+ deg \(right\) to \+\d+ deg \(left\)", own)
    # The 3 examples are the 3 nearest in the bank, computed independently.
    from spa2v.planning.features import cue_features

    expected = expected_nearest(bank_path, cue_features(QUERY))
    assert _example_ids(request) == expected
    assert expected[0] == "car-rtl"  # and the nearest is the obvious one
    # Each example shows its cue summary and its layout JSON.
    assert user["content"].count("Layout:\n```json\n{") == 3


def test_nearest_examples_follow_the_query(server, bank_path):
    base_url, script = server
    query = _cues(28, 31, 0, PIANO)
    script.answers = ["not a layout at all"] * 3
    plan_llm(query, base_url=base_url, model="m", bank=bank_path, timeout_s=10)
    from spa2v.planning.features import cue_features

    ids = _example_ids(script.requests[0])
    assert ids == expected_nearest(bank_path, cue_features(query))
    assert ids[0] == "piano-left"


def test_malformed_json_is_retried_with_the_error_fed_back(server, bank_path):
    base_url, script = server
    script.answers = [
        'Reasoning: easy.\n```json\n{"schema": "spa2v.vsl/1", "duration": 4, ,}\n```',
        _fenced(_answer_layout(QUERY)),
    ]
    vsl = plan_llm(QUERY, base_url=base_url, model="m", bank=bank_path, timeout_s=10)
    assert vsl.background == "a city street at dusk"
    assert "attempt 2" in vsl.reasoning
    assert len(script.requests) == 2
    retry = script.requests[1]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert "not valid" in retry[-1]["content"] and "JSON" in retry[-1]["content"]


def test_schema_invalid_layout_every_time_falls_back_to_physics(server, bank_path, caplog):
    base_url, script = server
    bad = _answer_layout(QUERY)
    bad["frames"] = []  # nothing to repair: a layout needs keyframes
    script.answers = [_fenced(bad)] * 3
    with caplog.at_level(logging.WARNING, logger="spa2v.planning.llm"):
        vsl = plan_llm(
            QUERY, base_url=base_url, model="m", bank=bank_path, timeout_s=10, max_attempts=3
        )
    assert len(script.requests) == 3  # bounded
    assert "frames" in script.requests[2]["messages"][-1]["content"]  # the error named the field
    assert vsl.reasoning.startswith("WARNING: llm planner failed")
    assert "physics planner" in fallback_warning(vsl)
    physics = plan_physics(QUERY)
    assert [f.boxes for f in vsl.frames] == [f.boxes for f in physics.frames]
    parse_vsl(vsl.to_dict())  # the fallback is a valid layout


def test_repairable_layout_is_repaired_without_a_retry(server, bank_path):
    base_url, script = server
    layout = _answer_layout(QUERY)
    layout["frames"] = list(reversed(layout["frames"]))  # unsorted
    layout["frames"][0]["boxes"][0]["box"] = [-0.1, 0.45, 0.1, 0.6]  # outside the canvas
    layout["frames"][1]["boxes"].append({"id": 7, "box": [0.1, 0.1, 0.2, 0.2]})  # unknown id
    layout["objects"][0]["motion"] = "sideways"
    script.answers = ["Here is the plan: " + json.dumps(layout) + " Hope it helps."]
    vsl = plan_llm(QUERY, base_url=base_url, model="m", bank=bank_path, timeout_s=10)
    assert len(script.requests) == 1
    assert [f.t for f in vsl.frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert vsl.frames[-1].boxes[0].box == (0.0, 0.45, 0.1, 0.6)
    assert all(b.id == 0 for f in vsl.frames for b in f.boxes)
    assert vsl.objects[0].motion == "other"
    assert "repaired" in vsl.reasoning


def test_timeout_is_an_error_not_a_fallback(server, bank_path):
    base_url, script = server
    script.answers = [("sleep", 1.5)]
    with pytest.raises(BackendUnavailableError, match=r"no answer from .* within 0\.3 s"):
        plan_llm(QUERY, base_url=base_url, model="m", bank=bank_path, timeout_s=0.3)
    assert len(script.requests) == 1  # no retry after a timeout


def test_refused_connection_is_an_error_not_a_fallback(bank_path):
    with socket.socket() as sock:  # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BackendUnavailableError, match=f"cannot reach http://127.0.0.1:{port}/v1"):
        plan(
            QUERY,
            "llm",
            base_url=f"http://127.0.0.1:{port}/v1",
            model="m",
            bank=bank_path,
            timeout_s=5,
        )


@pytest.mark.parametrize(
    ("status", "hint"),
    [(500, "HTTP 500"), (401, "check the API key"), (403, "check the API key"), (404, "base URL")],
)
def test_http_error_is_an_error_not_a_fallback(server, bank_path, status, hint):
    base_url, script = server
    script.answers = [("status", status)]
    with pytest.raises(BackendUnavailableError, match=hint):
        plan_llm(QUERY, base_url=base_url, model="m", bank=bank_path, timeout_s=10)
    assert len(script.requests) == 1  # an HTTP error is not retried


def test_a_body_that_is_no_chat_completion_falls_back_once(server, bank_path, caplog):
    base_url, script = server
    script.answers = [("raw", b'{"unexpected": true}')]
    with caplog.at_level(logging.WARNING):
        vsl = plan_llm(QUERY, base_url=base_url, model="m", bank=bank_path, timeout_s=10)
    assert fallback_warning(vsl) is not None and "unusable" in fallback_warning(vsl)
    assert "physics planner" not in caplog.text  # said once, by whoever shows the layout


def test_missing_backend_names_the_flag_and_variable(monkeypatch):
    monkeypatch.delenv("SPA2V_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("SPA2V_LLM_MODEL", raising=False)
    with pytest.raises(BackendUnavailableError, match=r"--llm-base-url.*SPA2V_LLM_BASE_URL"):
        plan_llm(QUERY)
    with pytest.raises(BackendUnavailableError, match=r"--llm-model.*SPA2V_LLM_MODEL"):
        plan_llm(QUERY, base_url="http://127.0.0.1:9/v1")


def test_environment_configures_the_backend(server, bank_path, monkeypatch):
    base_url, script = server
    monkeypatch.setenv("SPA2V_LLM_BASE_URL", base_url)
    monkeypatch.setenv("SPA2V_LLM_MODEL", "env-model")
    script.answers = [_fenced(_answer_layout(QUERY))]
    plan_llm(QUERY, bank=bank_path, timeout_s=10)
    assert script.requests[0]["model"] == "env-model"


def test_audio_is_sent_as_input_audio(server, bank_path, tmp_path):
    base_url, script = server
    sr = 16000
    stereo = np.stack([np.sin(np.arange(sr) * 0.05), 0.5 * np.sin(np.arange(sr) * 0.05)])
    wav = tmp_path / "clip.wav"
    sf.write(wav, 0.5 * stereo.T, sr)
    script.answers = [_fenced(_answer_layout(QUERY))]
    plan_llm(QUERY, base_url=base_url, model="m", bank=bank_path, audio_path=wav, timeout_s=10)
    parts = script.requests[0]["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "input_audio"]
    assert parts[1]["input_audio"]["format"] == "wav"
    audio, sr_back = sf.read(io.BytesIO(base64.b64decode(parts[1]["input_audio"]["data"])))
    assert sr_back == sr and audio.shape == (sr, 2)
    assert np.allclose(audio[:, 1], 0.5 * audio[:, 0], atol=1e-3)  # channels kept


def test_extract_json_tolerates_prose_and_fences():
    data, prose = extract_json('I think left.\n```json\n{"a": [1, 2]}\n```\nDone.')
    assert data == {"a": [1, 2]} and prose.startswith("I think left.")
    data, _ = extract_json('Sure! {"x": {"y": 1}} and also {"z": 2}')
    assert data == {"x": {"y": 1}}  # the largest object
    with pytest.raises(LayoutError, match="no JSON object"):
        extract_json("I cannot do that.")


def test_repair_drops_what_cannot_be_drawn():
    layout = _answer_layout(QUERY)
    layout["frames"][2]["boxes"][0]["box"] = [1.2, 0.4, 1.5, 0.6]  # entirely off-canvas
    layout["frames"].append(dict(layout["frames"][0]))  # duplicate t = 0
    layout["extra"] = "field"
    fixed = repair_layout(layout, duration_s=4.0, fps=1.0)
    vsl = parse_vsl(fixed)
    assert [f.t for f in vsl.frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert vsl.frames[2].boxes == []


def test_without_the_llm_extra_the_planner_says_what_to_install(tmp_path: Path) -> None:
    """openai is only the llm extra's: without it, a one-line error and exit code 3
    before any hearing, and the physics planner still runs."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "sys.modules['openai'] = None  # as if the llm extra were not installed\n"
        "from spa2v.interfaces.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "plan",
            str(tmp_path / "not-read.wav"),
            "--planner",
            "llm",
            "--llm-base-url",
            "http://127.0.0.1:9/v1",
            "--llm-model",
            "m",
            "-o",
            str(tmp_path / "layout.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "pip install 'spa2v[llm]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("boxes", [True, 3, "none", {"id": 0}])
def test_answers_with_boxes_of_the_wrong_type_fall_back_without_a_traceback(
    server, bank_path, boxes
):
    """Found by the fuzzing campaign: ``"boxes": true`` crashed the repair step."""
    base_url, script = server
    layout = _answer_layout(QUERY)
    layout["frames"][1]["boxes"] = boxes
    layout["objects"] = "not a list"
    script.answers = [json.dumps(layout)]
    vsl = plan_llm(QUERY, base_url=base_url, model="m", bank=bank_path, max_attempts=1)
    parse_vsl(vsl.to_dict())  # repaired or the fallback: a valid layout either way
    assert fallback_warning(vsl) is not None or "repaired" in vsl.reasoning

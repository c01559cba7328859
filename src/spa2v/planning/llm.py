"""The LLM planner: an OpenAI-compatible chat model writes the layout, we check it.

Any server that speaks the chat-completions protocol works (OpenAI, Gemini's
OpenAI-compatible endpoint, vLLM, Ollama, llama.cpp's server) through the official
``openai`` client. The request carries the director prompt, the cues as text, the 3
nearest examples from the example bank and, for models that hear, the audio itself
(:mod:`spa2v.planning.prompt`).

The answer is trusted only after validation: the JSON is cut out of the reply (fences
and prose around it are fine), validated with :func:`~spa2v.planning.vsl.parse_vsl`,
repaired when the fault is mechanical (boxes outside [0, 1], unsorted frames, unknown
ids), and otherwise sent back to the model with the validation error, at most
``max_attempts`` requests in all. When no valid layout comes back (a bad *answer*), the
physics planner makes the layout and the warning is written into the layout's
``reasoning`` (:func:`fallback_warning` reads it back). A server that cannot be reached,
times out or answers with an HTTP error is a configuration problem, not a bad answer:
:class:`~spa2v.errors.BackendUnavailableError`, nothing is planned.

Configuration: ``base_url``/``model``/``api_key`` arguments, else the environment
variables ``SPA2V_LLM_BASE_URL``, ``SPA2V_LLM_MODEL`` and ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
from typing import Any

import numpy as np
import soundfile as sf

from spa2v.errors import BackendUnavailableError, LayoutError
from spa2v.hearing.cues import Cues
from spa2v.planning.bank import ExampleBank
from spa2v.planning.physics import DEFAULT_FPS, keyframe_times, plan_physics
from spa2v.planning.prompt import build_messages, feedback_message
from spa2v.planning.vsl import MOTIONS, SCHEMA_ID, VSL, parse_vsl

log = logging.getLogger(__name__)

ENV_BASE_URL = "SPA2V_LLM_BASE_URL"
ENV_MODEL = "SPA2V_LLM_MODEL"
ENV_API_KEY = "OPENAI_API_KEY"
N_EXAMPLES = 3
#: How the reasoning of a fallback layout starts.
_FALLBACK_MARK = "WARNING: "

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_TOP_KEYS = (
    "schema",
    "duration",
    "fps",
    "width",
    "height",
    "caption",
    "background",
    "objects",
    "frames",
    "reasoning",
)


class LLMAnswerError(LayoutError):
    """The model's answer held no usable layout (internal: triggers retry/fallback)."""


def resolve_backend(
    base_url: str | None, model: str | None, api_key: str | None
) -> tuple[str, str, str]:
    """Base URL, model and key from the arguments or the environment.

    Raises BackendUnavailableError naming the flag/variable to set when one is missing,
    or the extra to install when the ``openai`` client is not there (checked here, so
    that the command line fails before the slow hearing step). Local servers need no
    key; the client still wants a non-empty one.
    """
    _openai()
    base_url = base_url or os.environ.get(ENV_BASE_URL)
    model = model or os.environ.get(ENV_MODEL)
    if not base_url:
        raise BackendUnavailableError(
            f"the llm planner needs a server: pass --llm-base-url URL or set {ENV_BASE_URL} "
            "(e.g. http://127.0.0.1:8000/v1)"
        )
    if not model:
        raise BackendUnavailableError(
            f"the llm planner needs a model name: pass --llm-model NAME or set {ENV_MODEL}"
        )
    return base_url, model, api_key or os.environ.get(ENV_API_KEY) or "no-key"


def _openai() -> Any:
    """The ``openai`` module, or a one-line error naming the extra that brings it."""
    try:
        import openai
    except ImportError:
        raise BackendUnavailableError(
            "the llm planner needs the openai client, which is not installed: "
            "pip install 'spa2v[llm]'"
        ) from None
    return openai


# --- answer parsing and repair ----------------------------------------------------------


def extract_json(text: str) -> tuple[dict[str, Any], str]:
    """The layout object in a model's reply, and the prose around it (its reasoning).

    Fenced blocks are tried last-first; then every ``{`` in the text is tried as the
    start of a JSON object (the largest object wins).

    >>> extract_json('Reasoning: left.\\n```json\\n{"a": 1}\\n```')
    ({'a': 1}, 'Reasoning: left.')
    """
    for match in reversed(list(_FENCE.finditer(text))):
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            return data, (text[: match.start()] + text[match.end() :]).strip()
    decoder = json.JSONDecoder()
    best: tuple[dict[str, Any], int, int] | None = None
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            data, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and (best is None or end - start > best[2] - best[1]):
            best = (data, start, end)
    if best is None:
        raise LLMAnswerError("the answer holds no JSON object; give the VSL in a ```json block")
    data, start, end = best
    return data, (text[:start] + text[end:]).strip()


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def repair_layout(data: dict[str, Any], duration_s: float, fps: float) -> dict[str, Any]:
    """Fix mechanical faults of a model's layout; what cannot be fixed is left for
    validation to reject.

    Sets the schema id and the recording's duration, keeps only known fields, maps an
    unknown ``motion`` to ``"other"``, drops boxes of undeclared objects, clips boxes to
    [0, 1] (dropping empty ones), clips and sorts keyframe times and merges duplicates.
    """
    out: dict[str, Any] = {k: data[k] for k in _TOP_KEYS if k in data}
    out["schema"] = SCHEMA_ID
    out["duration"] = float(duration_s)
    given_fps = _number(out.get("fps"))
    if given_fps is None or given_fps <= 0:
        out["fps"] = float(fps)
    for key in ("width", "height"):
        out.pop(key, None)  # the canvas is fixed (512x320); a model's guess adds nothing
    for key in ("caption", "background", "reasoning"):
        if key in out and not isinstance(out[key], str):
            out[key] = json.dumps(out[key]) if out[key] is not None else ""

    objects: list[dict[str, Any]] = []
    ids: set[int] = set()
    for obj in data.get("objects") or []:
        number = _number(obj.get("id")) if isinstance(obj, dict) else None
        if number is None:
            continue
        oid = int(number)
        if oid < 0 or oid in ids:
            continue
        name = str(obj.get("name") or obj.get("audio_label") or "object")
        motion = obj.get("motion") if obj.get("motion") in MOTIONS else "other"
        objects.append(
            {
                "id": oid,
                "name": name,
                "audio_label": str(obj.get("audio_label", "")),
                "motion": motion,
            }
        )
        ids.add(oid)
    out["objects"] = objects

    frames: dict[float, dict[str, Any]] = {}
    for frame in data.get("frames") or []:
        frame_t = _number(frame.get("t")) if isinstance(frame, dict) else None
        if frame_t is None:
            continue
        t = round(min(max(frame_t, 0.0), duration_s), 6)
        boxes: list[dict[str, Any]] = []
        seen: set[int] = set()
        for entry in frame.get("boxes") or []:
            box = _repair_box(entry, ids, seen)
            if box is not None:
                boxes.append(box)
                seen.add(box["id"])
        if t not in frames:  # the first of duplicate times wins
            caption = frame.get("caption", "")
            frames[t] = {
                "t": t,
                "caption": caption if isinstance(caption, str) else "",
                "boxes": boxes,
            }
    out["frames"] = [frames[t] for t in sorted(frames)]
    return out


def _repair_box(entry: Any, ids: set[int], seen: set[int]) -> dict[str, Any] | None:
    number = _number(entry.get("id")) if isinstance(entry, dict) else None
    if number is None:
        return None
    oid = int(number)
    coords = entry.get("box")
    if oid not in ids or oid in seen or not isinstance(coords, list) or len(coords) != 4:
        return None
    values = [_number(v) for v in coords]
    known = [v for v in values if v is not None]
    if len(known) != 4:
        return None
    x0, y0, x1, y1 = (min(max(v, 0.0), 1.0) for v in known)
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if x1 - x0 < 1e-4 or y1 - y0 < 1e-4:
        return None  # nothing left in view
    return {"id": oid, "box": [round(v, 4) for v in (x0, y0, x1, y1)]}


def answer_to_vsl(text: str, duration_s: float, fps: float) -> tuple[VSL, bool]:
    """Validate a reply: ``(vsl, repaired)``; raise LayoutError with the first problem."""
    data, prose = extract_json(text)
    data = {**data, "duration": float(duration_s)}  # the clip's length is not the model's call
    if prose and not str(data.get("reasoning", "")).strip():
        data["reasoning"] = prose
    try:
        return parse_vsl(data), False
    except LayoutError as first:
        try:
            return parse_vsl(repair_layout(data, duration_s, fps)), True
        except (LayoutError, TypeError, ValueError, AttributeError, KeyError):
            raise first from None  # the repair is best effort: the first problem is fed back


# --- the planner ------------------------------------------------------------------------


def _load_bank(bank: ExampleBank | str | os.PathLike[str] | None) -> ExampleBank:
    if isinstance(bank, ExampleBank):
        return bank
    if bank is None:
        return ExampleBank.default()
    return ExampleBank.load(bank)


def wav_for_model(audio_path: str | os.PathLike[str]) -> bytes:
    """The recording as 16-bit WAV bytes a chat model can hear (at most 2 channels).

    FOA is turned into a stereo pair of virtual cardioids facing left and right
    (W +- Y), so the model hears the same left/right picture the camera shows.
    """
    from spa2v.io.audio import load_audio

    signal = load_audio(audio_path)
    samples = signal.samples
    if signal.layout == "foa":
        w, y = samples[0], samples[1]
        samples = np.stack([0.5 * (w + y), 0.5 * (w - y)])
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples.T, -1.0, 1.0), signal.sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def plan_llm(
    cues: Cues,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    audio_path: str | os.PathLike[str] | None = None,
    bank: ExampleBank | str | os.PathLike[str] | None = None,
    fps: float | None = DEFAULT_FPS,
    n_frames: int | None = None,
    timeout_s: float = 60.0,
    max_attempts: int = 3,
) -> VSL:
    """Ask a chat model for the layout; validate, repair or retry; fall back to physics.

    Parameters
    ----------
    cues : Cues
        Heard and tagged sources.
    base_url, model, api_key : str or None
        The OpenAI-compatible endpoint (e.g. ``http://127.0.0.1:8000/v1``), the model
        name and key; default to ``SPA2V_LLM_BASE_URL``, ``SPA2V_LLM_MODEL``,
        ``OPENAI_API_KEY``.
    audio_path : path or None
        Also send the recording as an ``input_audio`` part (models that accept audio).
    bank : ExampleBank, path or None
        Where the 3 in-context examples come from (None: the bank shipped in the package).
    fps, n_frames : float or None, int or None
        Keyframe rate or count asked for (and used by the fallback).
    timeout_s : float
        Per-request timeout.
    max_attempts : int
        Requests in all (the first plus retries with the validation error fed back).

    Returns
    -------
    VSL
        The model's validated layout or, on failure, the physics planner's (its
        ``reasoning`` starts with the warning).

    Raises
    ------
    BackendUnavailableError
        When no base URL or model is configured (nothing was tried), or the server
        cannot be reached, does not answer in time or answers with an HTTP error.
    """
    base_url, model, api_key = resolve_backend(base_url, model, api_key)
    times_s, fps_out = keyframe_times(cues.duration_s, fps=fps, n_frames=n_frames)
    examples = _load_bank(bank).nearest(cues, k=N_EXAMPLES)
    wav = wav_for_model(audio_path) if audio_path is not None else None
    messages = build_messages(cues, examples, [round(float(t), 4) for t in times_s], fps_out, wav)
    openai = _openai()
    client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)
    example_ids = ", ".join(r.id for r in examples) or "none"
    source = f"llm planner ({model} at {base_url}; examples {example_ids})"

    problem = "no attempt was made"
    for attempt in range(1, max(1, max_attempts) + 1):
        try:
            response = client.chat.completions.create(
                model=model, messages=messages, temperature=0.0
            )
            text = response.choices[0].message.content or ""
        except openai.APITimeoutError:
            raise BackendUnavailableError(
                f"the llm planner got no answer from {base_url} within {timeout_s:g} s: "
                "check the server, or raise --llm-timeout-s"
            ) from None
        except openai.APIConnectionError as exc:
            raise BackendUnavailableError(
                f"the llm planner cannot reach {base_url} ({exc.__cause__ or exc}): "
                "check --llm-base-url and that the server is running"
            ) from None
        except openai.APIStatusError as exc:
            hint = "check the server"
            if exc.status_code in (401, 403):
                hint = "check the API key: --llm-api-key-env names its variable"
            elif exc.status_code == 404:
                hint = f"check the base URL and that the server has model {model!r}"
            raise BackendUnavailableError(
                f"the llm planner got HTTP {exc.status_code} from {base_url}: {hint}"
            ) from None
        except (openai.OpenAIError, IndexError, AttributeError, TypeError) as exc:
            problem = f"unusable response ({type(exc).__name__})"
            break
        try:
            vsl, repaired = answer_to_vsl(text, cues.duration_s, fps_out)
        except LayoutError as exc:
            problem = f"attempt {attempt}: {exc}"
            log.info("llm planner, %s", problem)
            messages += [{"role": "assistant", "content": text}, feedback_message(str(exc))]
            continue
        note = f"[planned by the {source}, attempt {attempt}{', repaired' if repaired else ''}]"
        return vsl.model_copy(update={"reasoning": f"{vsl.reasoning}\n{note}".strip()})

    # Not logged here: whoever shows the layout says it once (fallback_warning).
    warning = f"llm planner failed: {problem}; used the physics planner instead"
    fallback = plan_physics(cues, fps=fps, n_frames=n_frames)
    return fallback.model_copy(
        update={"reasoning": f"{_FALLBACK_MARK}{warning}.\n{fallback.reasoning}"}
    )


def fallback_warning(vsl: VSL) -> str | None:
    """The warning of a layout the physics planner made because the model's answers
    were unusable, or ``None`` for any other layout.

    >>> fallback_warning(VSL(duration=1.0, fps=1.0, frames=[{"t": 0.0}])) is None
    True
    """
    first = vsl.reasoning.split("\n", 1)[0]
    return first[len(_FALLBACK_MARK) :].rstrip(".") if first.startswith(_FALLBACK_MARK) else None


__all__ = [
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_MODEL",
    "answer_to_vsl",
    "extract_json",
    "fallback_warning",
    "plan_llm",
    "repair_layout",
    "resolve_backend",
]

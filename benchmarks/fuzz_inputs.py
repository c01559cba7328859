"""Fuzzing campaign: every input either works or fails clearly.

Generates malformed and unusual inputs deterministically from a seed and feeds them to
the Python API (most cases, in this process) and to the ``spa2v`` command (a share of
the cases, one process each): recordings (random and truncated bytes under audio and
video extensions, every container and codec PyAV and soundfile write, 1 Hz-384 kHz,
0-16 channels, 0 and 1 samples, NaN/inf, DC, clipping, very long), layouts and cue
files with random JSON mutations (huge or negative numbers, unicode and very long
names, 10,000 objects or keyframes), answers of an LLM server (garbage, truncated,
huge, schema-invalid, HTTP errors; a real HTTP server on 127.0.0.1), ``bench
--real`` manifests, videos for ``spa2v eval`` (random and truncated bytes, zero and one
frame, odd frame sizes, variable frame rate, no / mono / 6-channel / silent / extreme
sound, layouts of another duration or mutated, bad ``--audio``, ``-o`` and ``--plot``
where they cannot be written) and ``spa2v batch`` manifests (CSV and JSONL with bad
rows: missing files, unknown options, bad values, repeated or reserved ids, huge rows,
bytes that are not UTF-8, a BOM, quoting errors; output folders holding another batch;
``--workers`` 1 and 2; always through the command).

Each case passes when:

- nothing raises but :class:`spa2v.errors.Spa2vError` (API), and the command exits
  with a documented code (0, 2, 3) with no traceback and one error line (CLI);
- ``eval``: a report whose verdict is "cannot tell" where the sound carries no
  direction (none, mono, silent), scores in [0, 1], strict JSON;
- ``batch``: each bad row is a failed row with a one-line error (not a Python
  exception's name) and each good row succeeds; a row per input; the exit code is 10 +
  the failed rows (0 when none; 2, with the folder as it was, when the output folder is
  refused or the inputs hold nothing to run); no ``.part`` work folder is left;
- no partial or orphaned output: after a failure the output folder is as it was
  (empty), after a success it holds only the expected files, and no temporary
  (``.part``) file is anywhere;
- peak memory stays under ``--memory-bound-mb`` (this process and its children,
  ``resource.getrusage``).

Usage::

    .venv/bin/python benchmarks/fuzz_inputs.py --cases 1200            # full campaign
    .venv/bin/python benchmarks/fuzz_inputs.py --cases 60 --cli-every 6 # quick look
    .venv/bin/python benchmarks/fuzz_inputs.py --cases 40 --families eval,batch

Exit status 1 when any case fails; ``--report FILE.json`` keeps every case's outcome.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import io
import json
import logging
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import soundfile as sf

# The scripted chat-completions server is shared with the test suite.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from chat_server import Script, chat_server
from spa2v import api
from spa2v.errors import Spa2vError

#: Documented exit codes of ``spa2v`` (README, ``spa2v --help``).
DOCUMENTED_EXIT_CODES = {0, 2, 3}
#: Peak resident memory allowed for the harness and any command it starts. The inputs
#: here are at most 30 s long; the default input limit's own bound is in the docs.
DEFAULT_MEMORY_BOUND_MB = 2048
CLI_TIMEOUT_S = 300
CASE_TIMEOUT_S = 300
#: The cycle of case families. Its length (13) has no factor in common with the usual
#: ``--cli-every`` values (12, 20), so that every family gets its share of CLI cases.
FAMILIES = ("audio", "audio", "audio", "layout", "layout", "cues", "llm", "manifest", "run",
            "eval", "eval", "eval", "batch")  # fmt: skip
EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".mp4", ".mkv", ".webm")
RATES_HZ = (1, 100, 4_000, 8_000, 11_025, 16_000, 22_050, 37_800, 44_100, 48_000, 96_000,
            192_000, 384_000)  # fmt: skip
WAV_SUBTYPES = ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE")
#: (container suffix, codec, rates it takes) for the codecs written through PyAV.
AV_CODECS = (
    (".ogg", "libvorbis", (22_050, 44_100, 48_000)),
    (".opus", "libopus", (48_000,)),
    (".mp3", "libmp3lame", (16_000, 22_050, 44_100, 48_000)),
    (".m4a", "aac", (8_000, 22_050, 44_100, 48_000, 96_000)),
    (".webm", "libopus", (48_000,)),
    (".mkv", "flac", (8_000, 44_100, 96_000, 192_000)),
    (".mp4", "aac", (44_100, 48_000)),
)
_AV_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1"}


@dataclass
class Outcome:
    """What one case did."""

    index: int
    family: str
    via: str  # "api" or "cli"
    what: str  # a short description of the input
    result: str = ""  # "ok", "error: ...", or "FAIL: ..."
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.result.startswith("FAIL")


@dataclass
class Context:
    """Shared by all cases: a scratch folder, the chat server, small valid inputs."""

    root: Path
    base_url: str
    script: Script
    good_audio: Path
    good_cues: Path
    layout_template: dict[str, Any]
    cues_template: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    clips: list[Path] = field(default_factory=list)  # tiny recordings, made on first use
    eval_inputs: Any = None  # EvalInputs, made on first use


# -- input generators -------------------------------------------------------------------


def _signal(rng: np.random.Generator, sr: int, n: int, channels: int) -> tuple[np.ndarray, str]:
    """(n, channels) float64 samples of a random kind, and the kind's name."""
    kind = rng.choice(["noise", "tone", "dc", "clipped", "silence", "nan", "inf", "huge"])
    t = np.arange(n) / max(sr, 1)
    if kind == "tone":
        x = 0.4 * np.sin(2 * np.pi * rng.uniform(50, 2000) * t)[:, None].repeat(channels, 1)
    elif kind == "dc":
        x = np.full((n, channels), rng.uniform(-1, 1))
    elif kind == "clipped":
        x = np.clip(3 * rng.standard_normal((n, channels)), -1, 1)
    elif kind == "silence":
        x = np.zeros((n, channels))
    else:
        x = 0.2 * rng.standard_normal((n, channels))
        if kind in ("nan", "inf") and x.size:
            bad = rng.random(x.shape) < rng.choice([0.001, 0.1, 0.9])
            x[bad] = np.nan if kind == "nan" else np.inf
        if kind == "huge":
            x *= 1e6
    return x, str(kind)


def _write_av(path: Path, samples: np.ndarray, sr: int, codec: str, video: bool) -> None:
    """``samples`` (n, C) through PyAV with ``codec``; ``video`` adds a short video track."""
    with av.open(str(path), "w") as out:
        layout = _AV_LAYOUTS[samples.shape[1]]
        audio = out.add_stream(codec, rate=sr, layout=layout)
        vstream = None
        if video:
            vstream = out.add_stream("libx264", rate=10)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 48, "yuv420p"
            for i in range(5):
                image = np.full((48, 64, 3), 40 * i, np.uint8)
                out.mux(vstream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(vstream.encode(None))
        data = np.clip(np.nan_to_num(samples.T.astype(np.float32)), -1, 1)
        for start in range(0, data.shape[1], 4096):
            chunk = np.ascontiguousarray(data[:, start : start + 4096])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = sr, start, Fraction(1, sr)
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))


def make_audio(rng: np.random.Generator, folder: Path) -> tuple[Path, str]:
    """One unusual or broken recording in ``folder``; returns its path and a description."""
    kind = rng.choice(
        [
            "random-bytes",
            "truncated",
            "wav",
            "wav",
            "flac24",
            "av",
            "av",
            "no-audio",
            "header-edit",
            "long",
        ],
    )
    if kind == "random-bytes":
        ext = str(rng.choice(EXTENSIONS))
        path = folder / f"random{ext}"
        size = int(rng.choice([0, 1, 4, 44, 512, 4096]))
        head = rng.choice([b"", b"RIFF", b"fLaC", b"OggS", b"ID3", b"\x1aE\xdf\xa3"])
        path.write_bytes(head + rng.bytes(size))
        return path, f"{size} random bytes as {ext} (head {head!r})"
    if kind == "no-audio":
        path = folder / "silent-film.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
            for i in range(5):
                image = np.full((48, 64, 3), 40 * i, np.uint8)
                out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            out.mux(stream.encode(None))
        return path, "video without audio"
    if kind == "long":
        sr = int(rng.choice([8_000, 48_000]))
        path = folder / "long.flac"
        hours = 1 if sr == 8_000 else 0.25
        with sf.SoundFile(str(path), "w", sr, 1, format="FLAC") as f:
            block = np.zeros(sr * 60, np.int16)
            for _ in range(int(60 * hours)):
                f.write(block)
        return path, f"{hours:g} h of digital silence at {sr} Hz"
    channels = int(rng.choice([1, 1, 2, 2, 2, 3, 4, 4, 5, 6, 8, 16]))
    n = int(rng.choice([0, 1, 2, 100, 4_000, 16_000, 48_000]))
    if kind in ("wav", "header-edit", "truncated"):
        sr = int(rng.choice(RATES_HZ))
        subtype = str(rng.choice(WAV_SUBTYPES))
        x, content = _signal(rng, sr, min(n, max(sr, 1) * 2), channels)
        if subtype not in ("FLOAT", "DOUBLE"):
            x = np.clip(np.nan_to_num(x), -1, 1)
        path = folder / "input.wav"
        sf.write(path, x, sr, subtype=subtype)
        what = f"wav {subtype} {sr} Hz {channels} ch {x.shape[0]} samples {content}"
        if kind == "header-edit":
            data = bytearray(path.read_bytes())
            offset = int(rng.choice([22, 24, 28, 32, 34, 40]))  # channels, rate, ..., size
            value = int(rng.choice([0, 1, 0xFFFF, 0x7FFFFFFF, int(rng.integers(0, 2**16))]))
            width = 2 if offset in (22, 32, 34) else 4
            data[offset : offset + width] = (value % (256**width)).to_bytes(width, "little")
            path.write_bytes(bytes(data))
            what += f", header bytes {offset}-{offset + width} set to {value}"
        elif kind == "truncated":
            data = path.read_bytes()
            cut = int(len(data) * rng.uniform(0.05, 0.95))
            path.write_bytes(data[:cut])
            what += f", cut at byte {cut} of {len(data)}"
        return path, what
    if kind == "flac24":
        sr = int(rng.choice([8_000, 44_100, 96_000, 192_000]))
        x, content = _signal(rng, sr, n, min(channels, 8))
        path = folder / "input.flac"
        sf.write(path, np.clip(np.nan_to_num(x), -1, 1), sr, subtype="PCM_24")
        return path, f"flac 24-bit {sr} Hz {x.shape[1]} ch {n} samples {content}"
    ext, codec, rates = AV_CODECS[int(rng.integers(len(AV_CODECS)))]
    sr = int(rng.choice(rates))
    channels = min(channels, 2 if codec in ("libopus", "libmp3lame", "libvorbis") else 6)
    x, content = _signal(rng, sr, max(n, 1), channels)
    path = folder / f"input{ext}"
    video = ext in (".mp4", ".mkv", ".webm") and bool(rng.random() < 0.5)
    try:
        _write_av(path, x, sr, codec, video and ext != ".webm")
    except (av.FFmpegError, ValueError) as exc:  # the encoder refused: bytes instead
        path.write_bytes(rng.bytes(256))
        return path, f"{ext} the encoder refused ({type(exc).__name__}): random bytes"
    if rng.random() < 0.3:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * rng.uniform(0.1, 0.9))])
        content += ", truncated"
    return path, f"{ext} {codec} {sr} Hz {channels} ch {x.shape[0]} samples {content}"


_WEIRD_VALUES: tuple[Any, ...] = (
    None, True, 0, -1, -1e308, 1e308, 2**63, 0.5, "", "NaN", "Infinity", "-inf",
    "🚗" * 50, "x" * 20_000, "\u202e\u0000ab", [], {}, [1, 2], {"a": None},
)  # fmt: skip


def mutate(rng: np.random.Generator, data: Any, n_mutations: int) -> tuple[Any, list[str]]:
    """``data`` (JSON-like) with random mutations: keys dropped or added, values replaced
    by weird ones, lists emptied, duplicated or blown up to 10,000 entries."""
    data = copy.deepcopy(data)
    notes = []
    for _ in range(n_mutations):
        paths = list(_json_paths(data))
        if not paths:
            break
        path = paths[int(rng.integers(len(paths)))]
        parent, key = _walk(data, path[:-1]), path[-1]
        op = str(rng.choice(["weird", "weird", "drop", "add", "grow", "scale", "swap"]))
        value = parent[key]
        if op == "drop" and isinstance(parent, dict):
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[f"extra_{rng.integers(100)}"] = _WEIRD_VALUES[rng.integers(len(_WEIRD_VALUES))]
        elif op == "grow" and isinstance(value, list) and value:
            parent[key] = [copy.deepcopy(value[i % len(value)]) for i in range(10_000)]
        elif op == "scale" and isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = value * float(rng.choice([-1.0, 1e6, 1e-9, 1e300, 0.0]))
        elif op == "swap" and isinstance(value, list) and len(value) > 1:
            parent[key] = value[::-1]
        else:
            parent[key] = _WEIRD_VALUES[int(rng.integers(len(_WEIRD_VALUES)))]
        notes.append(f"{op} {'/'.join(map(str, path))}")
    return data, notes


def _json_paths(data: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data[:20]))  # a blown-up list is not walked entry by entry
    else:
        return
    for key, value in items:
        yield (*prefix, key)
        yield from _json_paths(value, (*prefix, key))


def _walk(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


def _dump(value: Any, path: Path, rng: np.random.Generator) -> None:
    text = json.dumps(value, ensure_ascii=bool(rng.random() < 0.5), allow_nan=True)
    if rng.random() < 0.1:
        text = text[: int(len(text) * rng.uniform(0, 1))]  # truncated JSON
    path.write_text(text, encoding="utf-8")


# -- the cases ----------------------------------------------------------------------------


def _check_folder(out: Path, ok: bool, expected: set[str]) -> str | None:
    """A problem with the output folder after a case, or None."""
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    temporary = [f for f in files if ".part" in f or f.startswith(".")]
    if temporary:
        return f"temporary files left: {temporary[:3]}"
    if not ok and files:
        return f"failed but left {files[:4]}"
    if ok and expected and not set(f.split("/")[-1] for f in files) <= expected:
        return f"unexpected outputs {sorted(set(files) - expected)[:4]}"
    return None


def _api_call(fn: Callable[[], Any]) -> str:
    """'ok', 'error: message' (a Spa2vError), or 'FAIL: ...' (anything else)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Spa2vError as exc:
        message = str(exc)
        if "\n" in message or not message:
            return f"FAIL: error message not one line: {message!r}"
        return f"error: {message}"
    except Exception as exc:  # the bug this campaign looks for
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        return f"FAIL: traceback {type(exc).__name__}: {str(exc)[:200]} at {where}"
    return "ok"


def _cli_call(argv: list[str], ctx: Context) -> str:
    """Run ``spa2v ARGV`` in a new process and judge its exit code and stderr."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "spa2v", *argv],
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            env=ctx.env,
            cwd=ctx.root,
        )
    except subprocess.TimeoutExpired:
        return f"FAIL: no answer within {CLI_TIMEOUT_S} s"
    err = proc.stderr
    if "Traceback" in err:
        return f"FAIL: traceback (exit {proc.returncode}): {err.strip().splitlines()[-1][:200]}"
    if proc.returncode not in DOCUMENTED_EXIT_CODES:
        return f"FAIL: exit code {proc.returncode}: {err.strip()[-200:]}"
    if proc.returncode == 0:
        return "ok"
    errors = [line for line in err.splitlines() if ": error:" in line]
    if len(errors) != 1 or not errors[0].startswith("spa2v"):
        return f"FAIL: exit {proc.returncode} without one 'spa2v ...: error:' line: {err[-300:]!r}"
    return f"error: {errors[0]}"


def case_audio(rng: np.random.Generator, ctx: Context, folder: Path, via: str) -> tuple[str, str]:
    audio, what = make_audio(rng, folder / "in")
    out = folder / "out"
    if via == "api":
        target = str(rng.choice(["hear", "hear", "hear-tags", "render"]))
        if target == "render":
            layout = folder / "in" / "layout.json"
            layout.write_text(json.dumps(ctx.layout_template))
            result = _api_call(
                lambda: api.render(layout, audio, out / "v.mp4", size=(64, 40), fps=4.0)
            )
        else:
            result = _api_call(lambda: api.hear(audio, tags=target == "hear-tags"))
        expected = {"v.mp4"}
    else:
        command = str(rng.choice(["cues", "tag", "run", "render"]))
        argv = {
            "cues": ["cues", str(audio), "-o", str(out / "c.json"), "--plot", str(out / "c.png")],
            "tag": ["tag", str(audio), "-o", str(out / "c.json")],
            "run": ["run", str(audio), "-o", str(out / "sub" / "r.mp4"), "--size", "64x40"],
            "render": ["render", str(folder / "in" / "layout.json"), "--audio", str(audio)],
        }[command]
        if command == "render":
            (folder / "in" / "layout.json").write_text(json.dumps(ctx.layout_template))
            argv += ["-o", str(out / "v.mp4"), "--size", "64x40", "--fps", "4"]
        else:
            argv += ["--fps", "4"] if command == "run" else []
        result = _cli_call(argv, ctx)
        target = command
        expected = {"c.json", "c.png", "v.mp4", "r.mp4", "sub"} | {
            f"r.{s}" for s in ("cues.json", "layout.json", "cues.png", "storyboard.png")
        }
    problem = _check_folder(out, result == "ok", expected)
    return f"{target}: {what}", (f"FAIL: {problem}" if problem else result)


def case_layout(rng: np.random.Generator, ctx: Context, folder: Path, via: str) -> tuple[str, str]:
    data, notes = mutate(rng, ctx.layout_template, int(rng.integers(1, 4)))
    layout = folder / "in" / "layout.json"
    _dump(data, layout, rng)
    out = folder / "out"
    if via == "api":
        result = _api_call(
            lambda: api.render(
                layout,
                ctx.good_audio,
                out / "v.mp4",
                size=(64, 40),
                fps=4.0,
                overlay=bool(rng.random() < 0.5),
                subtitles=bool(rng.random() < 0.5),
                storyboard_path=out / "v.png",
            )
        )
    else:
        argv = ["render", str(layout), "--audio", str(ctx.good_audio), "-o", str(out / "v.mp4")]
        result = _cli_call([*argv, "--size", "64x40", "--fps", "4", "--overlay"], ctx)
    problem = _check_folder(out, result == "ok", {"v.mp4", "v.png"})
    return f"render layout ({'; '.join(notes)[:120]})", (f"FAIL: {problem}" if problem else result)


def case_cues(rng: np.random.Generator, ctx: Context, folder: Path, via: str) -> tuple[str, str]:
    data, notes = mutate(rng, ctx.cues_template, int(rng.integers(1, 4)))
    cues = folder / "in" / "x.cues.json"
    _dump(data, cues, rng)
    out = folder / "out"
    frames = int(rng.choice([1, 2, 16])) if rng.random() < 0.3 else None
    if via == "api":
        result = _api_call(
            lambda: api.plan(cues, n_frames=frames, fps=float(rng.choice([0.5, 8.0, 60.0])))
        )
    else:
        argv = ["plan", str(cues), "-o", str(out / "l.json")]
        result = _cli_call(argv + (["--frames", str(frames)] if frames else []), ctx)
    problem = _check_folder(out, result == "ok", {"l.json"})
    return f"plan cues ({'; '.join(notes)[:120]})", (f"FAIL: {problem}" if problem else result)


def _llm_answer(rng: np.random.Generator, ctx: Context) -> tuple[Any, str]:
    layout = dict(ctx.layout_template)
    kind = str(
        rng.choice(
            [
                "garbage",
                "truncated",
                "huge",
                "invalid",
                "mutated",
                "fenced",
                "raw",
                "status",
                "empty",
            ]
        )
    )
    if kind == "garbage":
        return rng.bytes(200).decode("latin-1"), kind
    if kind == "truncated":
        text = json.dumps(layout)
        return text[: int(len(text) * rng.uniform(0, 0.95))], kind
    if kind == "huge":
        return "[" * 50_000 + json.dumps(layout) + " " * 1_000_000, kind
    if kind == "invalid":
        return json.dumps({**layout, "frames": [], "objects": "none"}), kind
    if kind in ("mutated", "fenced"):
        data, _ = mutate(rng, layout, int(rng.integers(1, 4)))
        text = json.dumps(data, allow_nan=True)
        return (f"Reasoning: ok.\n```json\n{text}\n```" if kind == "fenced" else text), kind
    if kind == "raw":
        return ("raw", rng.choice([b"{}", b"null", b'{"choices": []}', b"[1,2]"])), kind
    if kind == "status":
        return ("status", int(rng.choice([400, 401, 403, 404, 429, 500, 503]))), kind
    return "", kind


def case_llm(rng: np.random.Generator, ctx: Context, folder: Path, via: str) -> tuple[str, str]:
    answers = [_llm_answer(rng, ctx) for _ in range(2)]
    ctx.script.answers[:] = [a for a, _ in answers]
    kinds = "+".join(k for _, k in answers)
    out = folder / "out"
    if via == "api":
        result = _api_call(
            lambda: api.plan(
                ctx.good_cues,
                planner="llm",
                base_url=ctx.base_url,
                model="fuzz",
                timeout_s=5.0,
                max_attempts=2,
            )
        )
    else:
        argv = ["plan", str(ctx.good_cues), "-o", str(out / "l.json"), "--planner", "llm"]
        argv += ["--llm-base-url", ctx.base_url, "--llm-model", "fuzz", "--llm-attempts", "2"]
        result = _cli_call([*argv, "--llm-timeout-s", "5"], ctx)
    ctx.script.answers.clear()
    problem = _check_folder(out, result == "ok", {"l.json"})
    return f"llm answers {kinds}", (f"FAIL: {problem}" if problem else result)


def case_manifest(
    rng: np.random.Generator, ctx: Context, folder: Path, via: str
) -> tuple[str, str]:
    shutil.copy(ctx.good_audio, folder / "in" / "clip.wav")
    manifest = {
        "format": "spa2v-realset/1",
        "clips": [
            {
                "clip": "c1",
                "audio": "clip.wav",
                "format": "stereo",
                "duration_s": 1.0,
                "frame": {"kind": "perspective", "hfov_deg": 90},
                "reference": "ground-truth",
                "group": "g",
                "lateral_cue": "ok",
                "sources": [
                    {
                        "class": "car",
                        "family": "vehicle",
                        "sounding": True,
                        "track": [[0.0, 30.0, 0.3, None], [1.0, -30.0, 0.7, None]],
                        "motion": "left-to-right",
                    }
                ],
            }
        ],
    }
    data, notes = mutate(rng, manifest, int(rng.integers(0, 4)))
    path = folder / "in" / "manifest.json"
    _dump(data, path, rng)
    out = folder / "out"
    if via == "api":
        result = _api_call(lambda: api.bench_real(path, out / "bench"))
    else:
        result = _cli_call(["bench", "--real", str(path), "--out", str(out / "bench")], ctx)
    problem = _check_folder(out, result == "ok", {"bench", "real-bench.json", "real-bench.md"})
    return f"bench --real ({'; '.join(notes)[:120]})", (f"FAIL: {problem}" if problem else result)


def case_run(rng: np.random.Generator, ctx: Context, folder: Path, via: str) -> tuple[str, str]:
    size = (int(rng.choice([16, 64, 63, 4096, 2])), int(rng.choice([16, 40, 41])))
    fps = float(rng.choice([1.0, 4.0, 0.0, -3.0, 1e9, math.nan]))
    keyframe_fps = float(rng.choice([0.5, 8.0, 0.0, 1e6]))
    out = folder / "out" / str(rng.choice(["r.mp4", "deep/er/r.mp4", "r.avi", "r"]))
    what = f"run size {size} fps {fps} keyframe-fps {keyframe_fps} -o {out.name}"
    if via == "api":
        result = _api_call(
            lambda: api.run(
                ctx.good_audio, out, size=size, fps=fps, plan_fps=keyframe_fps, tags=False
            )
        )
    else:
        argv = ["run", str(ctx.good_audio), "-o", str(out), "--size", f"{size[0]}x{size[1]}"]
        argv += ["--fps", str(fps), "--keyframe-fps", str(keyframe_fps), "--no-tags"]
        result = _cli_call(argv, ctx)
    expected = {"r.mp4"} | {
        f"r.{s}" for s in ("cues.json", "layout.json", "cues.png", "storyboard.png")
    }
    expected |= {"deep", "er"}
    problem = _check_folder(folder / "out", result == "ok", expected)
    return what, (f"FAIL: {problem}" if problem else result)


# -- eval: videos for `spa2v eval` ---------------------------------------------------------

#: Containers of the generated videos: (suffix, video codecs to try, audio codec, rate).
VIDEO_CONTAINERS = (
    (".mp4", ("libx264",), "aac", 48_000),
    (".mkv", ("ffv1", "libx264"), "flac", 48_000),
    (".webm", ("libvpx-vp9", "libvpx"), "libopus", 48_000),
    (".avi", ("mjpeg", "mpeg4"), "pcm_s16le", 48_000),
)
#: Frame sizes, odd and degenerate ones among them (under 16 px a side is refused).
FRAME_SIZES = ((1, 1), (3, 7), (4097, 2), (17, 16), (63, 41), (65, 49), (16, 16), (96, 64))
#: Sound tracks: missing, mono, the usual stereo, 6 channels, silent, and extreme but
#: finite signals (DC at full scale, a full-scale square wave, Nyquist, 1e-7 noise).
SOUND_KINDS = ("none", "none", "mono", "stereo", "stereo", "6ch", "silent", "extreme")
#: Sounds that carry no direction: the verdict must then be "cannot tell".
NO_DIRECTION = {"none", "mono", "silent"}


def _frame(rng: np.random.Generator, width: int, height: int, i: int, n: int) -> np.ndarray:
    """A grey frame with a red box moving left to right (something to see and to flow)."""
    image = np.full((height, width, 3), 90, np.uint8)
    side = max(1, min(width, height) // 3)
    x = int((width - side) * i / max(n - 1, 1))
    y = max(0, (height - side) // 2)
    image[y : y + side, x : x + side] = (200, 30, 30)
    return image


def _sound(rng: np.random.Generator, kind: str, sr: int, n: int) -> np.ndarray | None:
    """(n, channels) float32 samples of a sound track of ``kind`` (None: no track)."""
    t = np.arange(n) / sr
    if kind == "none":
        return None
    if kind == "silent":
        return np.zeros((n, 2), np.float32)
    if kind == "mono":
        return (0.3 * np.sin(2 * np.pi * 440 * t))[:, None].astype(np.float32)
    if kind == "6ch":
        return (0.1 * rng.standard_normal((n, 6))).astype(np.float32)
    if kind == "extreme":
        which = str(rng.choice(["dc", "square", "nyquist", "tiny"]))
        if which == "dc":
            x = np.ones(n)
        elif which == "square":
            x = np.sign(np.sin(2 * np.pi * 50 * t)) + (t == 0)
        elif which == "nyquist":
            x = (-1.0) ** np.arange(n)
        else:
            x = 1e-7 * rng.standard_normal(n)
        left = x if rng.random() < 0.5 else -x
        return np.stack([x, left], axis=1).astype(np.float32)
    # stereo: noise bursts panned from left to right by level and delay
    pan = np.linspace(1.0, -1.0, n)
    burst = rng.standard_normal(n) * (np.sin(2 * np.pi * 3 * t) > 0)
    delayed = np.roll(burst, 8)
    left = 0.3 * np.where(pan > 0, burst, delayed) * (1 + pan) / 2
    right = 0.3 * np.where(pan > 0, delayed, burst) * (1 - pan) / 2
    return np.stack([left, right], axis=1).astype(np.float32)


def _write_video(
    path: Path,
    rng: np.random.Generator,
    size: tuple[int, int],
    n_frames: int,
    fps: int,
    sound: np.ndarray | None,
    vfr: bool,
) -> str:
    """A video through PyAV (``n_frames`` may be 0); returns the video codec used."""
    suffix = path.suffix
    _, vcodecs, acodec, sr = next(c for c in VIDEO_CONTAINERS if c[0] == suffix)
    last: Exception | None = None
    for vcodec in vcodecs:
        try:
            with av.open(str(path), "w") as out:
                stream = out.add_stream(vcodec, rate=fps)
                stream.width, stream.height = size
                odd = size[0] % 2 or size[1] % 2
                stream.pix_fmt = {
                    "ffv1": "yuv444p",
                    "mjpeg": "yuvj444p" if odd else "yuvj420p",
                }.get(vcodec, "yuv444p" if odd else "yuv420p")
                if vfr:  # irregular frame times in milliseconds
                    stream.codec_context.time_base = Fraction(1, 1000)
                audio = None
                if sound is not None:
                    layout = _AV_LAYOUTS[sound.shape[1]]
                    audio = out.add_stream(acodec, rate=sr, layout=layout)
                pts = 0
                for i in range(n_frames):
                    frame = av.VideoFrame.from_ndarray(
                        _frame(rng, size[0], size[1], i, n_frames), format="rgb24"
                    )
                    if vfr:
                        frame.pts, frame.time_base = pts, Fraction(1, 1000)
                        pts += int(rng.choice([5, 40, 125, 400]))
                    out.mux(stream.encode(frame))
                out.mux(stream.encode(None))
                if audio is not None and sound is not None:
                    data = np.ascontiguousarray(sound.T)
                    for start in range(0, data.shape[1], 4096):
                        chunk = np.ascontiguousarray(data[:, start : start + 4096])
                        frame = av.AudioFrame.from_ndarray(
                            chunk, format="fltp", layout=_AV_LAYOUTS[sound.shape[1]]
                        )
                        frame.sample_rate, frame.pts = sr, start
                        frame.time_base = Fraction(1, sr)
                        out.mux(audio.encode(frame))
                    out.mux(audio.encode(None))
            return vcodec
        except (av.FFmpegError, ValueError) as exc:  # this encoder refused: the next one
            last = exc
    raise ValueError(f"no encoder took it ({type(last).__name__}: {last})")


@dataclass
class EvalInputs:
    """What the eval cases start from: an animatic spa2v rendered, with its layout and
    sound, and a valid layout of another duration (both from spa2v.planning)."""

    video: Path
    layout: Path
    other_layout: Path
    layout_template: dict[str, Any]


def _eval_inputs(ctx: Context) -> EvalInputs:
    """Made on first use (one render), so campaigns without eval cases do not pay."""
    if ctx.eval_inputs is None:
        folder = ctx.root / "eval-example"
        result = api.run(_clips(ctx)[0], folder / "example.mp4", size=(96, 64), fps=8.0, tags=False)
        other = api.plan(api.hear(ctx.good_audio, tags=False), n_frames=4)
        (folder / "other.layout.json").write_text(other.to_json())
        ctx.eval_inputs = EvalInputs(
            video=result.paths["video"],
            layout=result.paths["layout"],
            other_layout=folder / "other.layout.json",
            layout_template=json.loads(result.paths["layout"].read_text()),
        )
    return ctx.eval_inputs


def make_video(rng: np.random.Generator, ctx: Context, folder: Path) -> tuple[Path, str, str]:
    """One unusual or broken video in ``folder``: its path, a description and its sound
    kind (:data:`SOUND_KINDS`, "?" when unknown)."""
    kind = str(
        rng.choice(
            ["random-bytes", "truncated", "zero-frame", "one-frame", "generated",
             "generated", "generated", "long", "example", "example-silent"]
        )
    )  # fmt: skip
    suffix = str(rng.choice([c[0] for c in VIDEO_CONTAINERS]))
    if kind == "random-bytes":
        size = int(rng.choice([0, 1, 16, 512, 8192]))
        head = rng.choice([b"", b"\x00\x00\x00\x18ftypisom", b"\x1aE\xdf\xa3", b"RIFF"])
        path = folder / f"random{suffix}"
        path.write_bytes(head + rng.bytes(size))
        return path, f"{size} random bytes as {suffix} (head {head!r})", "?"
    example = _eval_inputs(ctx)
    if kind in ("example", "example-silent"):
        path = folder / "example.mp4"
        if kind == "example":
            shutil.copy(example.video, path)
            return path, "the example animatic", "stereo"
        with av.open(str(example.video)) as src, av.open(str(path), "w") as out:
            stream = out.add_stream_from_template(src.streams.video[0])
            for packet in src.demux(src.streams.video[0]):
                if packet.dts is not None:
                    packet.stream = stream
                    out.mux(packet)
        return path, "the example animatic without its sound track", "none"
    size = FRAME_SIZES[int(rng.integers(len(FRAME_SIZES)))]
    n_frames = {"zero-frame": 0, "one-frame": 1, "long": 240}.get(kind, -1)
    n_frames = int(rng.choice([2, 5, 12, 30])) if n_frames < 0 else n_frames
    fps = 24 if kind == "long" else int(rng.choice([1, 8, 24, 60]))  # long: 10 s
    sound_kind = str(rng.choice(SOUND_KINDS))
    duration_s = max(n_frames, 1) / fps * float(rng.choice([1.0, 1.0, 0.3, 2.0]))
    sound = _sound(rng, sound_kind, 48_000, max(1, int(48_000 * min(duration_s, 12.0))))
    vfr = bool(rng.random() < 0.2)
    if kind == "truncated" or rng.random() < 0.5:
        size = (64, 48)  # the damage, not the size, is what is tried here
    path = folder / f"video{suffix}"
    what = f"{kind} {suffix} {size[0]}x{size[1]} {n_frames} frames {fps} fps{' vfr' if vfr else ''}"
    try:
        codec = _write_video(path, rng, size, n_frames, fps, sound, vfr)
    except ValueError as exc:
        path.write_bytes(rng.bytes(256))
        return path, f"{what}: {exc}; random bytes instead", "?"
    what += f" {codec}, sound {sound_kind}"
    if not path.exists():
        what += " (the muxer wrote no file)"
    if kind == "truncated":
        data = path.read_bytes()
        cut = int(len(data) * rng.uniform(0.05, 0.95))
        path.write_bytes(data[:cut])
        what += f", cut at byte {cut} of {len(data)}"
        sound_kind = "?"
    return path, what, sound_kind


def _eval_output(rng: np.random.Generator, folder: Path, suffix: str) -> tuple[Path | None, str]:
    """An output path for -o / --plot: none, plain, in missing folders, under a file,
    in a read-only folder (root writes there anyway), in a folder that cannot be made,
    or with the wrong suffix."""
    kind = str(
        rng.choice(
            ["none"] * 6 + ["plain"] * 5 + ["missing"] * 2 + ["file", "ro", "proc", "suffix"]
        )
    )
    name = f"r{suffix}"
    if kind == "none":
        return None, ""
    if kind == "missing":
        return folder / "out" / "new" / "deeper" / name, kind
    if kind == "file":
        (folder / "in" / "a-file").write_text("x")
        return folder / "in" / "a-file" / name, kind
    if kind == "ro":
        (folder / "ro").mkdir(exist_ok=True)
        (folder / "ro").chmod(0o555)
        return folder / "ro" / name, kind
    if kind == "proc":  # /proc refuses new folders, also to root
        return Path(f"/proc/spa2v-fuzz-{folder.name}") / name, kind
    if kind == "suffix":
        return folder / "out" / "r.txt", kind
    return folder / "out" / name, kind


def _strict_json(path: Path) -> Any:
    """JSON as a strict reader takes it (NaN and Infinity are not JSON)."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} in the report")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def case_eval(rng: np.random.Generator, ctx: Context, folder: Path, via: str) -> tuple[str, str]:
    video, what, sound_kind = make_video(rng, ctx, folder / "in")
    example = _eval_inputs(ctx)
    layout_kind = str(rng.choice(["none", "none", "none", "other", "mutated"]))
    if what.startswith("the example") and rng.random() < 0.6:
        layout_kind = "example"  # the layout it was rendered from: the animatic path
    elif rng.random() < 0.1:
        layout_kind = "example"  # most likely of another duration
    layout: Path | None = None
    if layout_kind == "example":
        layout = example.layout
    elif layout_kind == "other":
        layout = example.other_layout
    elif layout_kind == "mutated":
        data, notes = mutate(rng, example.layout_template, int(rng.integers(1, 3)))
        layout = folder / "in" / "layout.json"
        _dump(data, layout, rng)
        layout_kind += f" ({'; '.join(notes)[:60]})"
    audio: Path | None = None
    audio_kind = str(rng.choice(["none", "none", "none", "good", "bad"]))
    if audio_kind == "good":
        audio = _clips(ctx)[0]
    elif audio_kind == "bad":
        (folder / "in" / "audio").mkdir()
        audio, audio_what = make_audio(rng, folder / "in" / "audio")
        audio_kind = f"bad ({audio_what[:50]})"
    report, report_kind = _eval_output(rng, folder, ".json")
    plot, plot_kind = _eval_output(rng, folder, ".png")
    boxes = str(rng.choice(["auto", "auto", "auto", "detector", "animatic"]))
    what += f"; layout {layout_kind}; audio {audio_kind}; -o {report_kind or '-'}"
    what += f"; --plot {plot_kind or '-'}; boxes {boxes}"
    found: dict[str, Any] = {}
    if via == "api":

        def evaluate() -> None:
            found["result"] = api.evaluate(
                video, layout, audio, boxes=boxes, report_path=report, plot_path=plot
            )

        result = _api_call(evaluate)
    else:
        argv = ["eval", str(video), "--boxes", boxes]
        argv += ["--layout", str(layout)] if layout else []
        argv += ["--audio", str(audio)] if audio else []
        argv += ["-o", str(report)] if report else []
        argv += ["--plot", str(plot)] if plot else []
        result = _cli_call(argv, ctx)
    ro = folder / "ro"
    if ro.exists():
        ro.chmod(0o755)  # so that the case's folder can be removed
    ok = result == "ok"
    problem = _check_folder(folder / "out", ok, {"r.json", "r.png", "new", "deeper"})
    for target in (report, plot):
        if problem or target is None:
            continue
        leftovers = [p.name for p in target.parent.glob(f".{target.name}*")]
        if leftovers:
            problem = f"temporary files left: {leftovers}"
        elif not ok and target.exists():
            problem = f"failed but left {target}"
        elif ok and not target.is_file():
            problem = f"succeeded without writing {target}"
    if problem is None and ok and report is not None:
        try:
            found.setdefault("report", _strict_json(report))
        except ValueError as exc:
            problem = f"the report is not JSON: {exc}"
    if problem is None and ok:
        problem = _judge_report(found, sound_kind if audio is None else "?")
    return f"eval {what}", (f"FAIL: {problem}" if problem else result)


def _judge_report(found: dict[str, Any], sound_kind: str) -> str | None:
    """A problem with what a successful evaluation says, or None: the verdict is one of
    the four, "cannot tell" where the sound carries no direction, scores in [0, 1]."""
    if "result" in found:
        figures = found["result"].figures()
        verdict, av_score = figures["spatial_verdict"], figures["av_align"]
        spatial = figures["spatial_score"]
    elif "report" in found:
        verdict = found["report"]["spatial"].get("verdict")
        av_score = found["report"]["av_align"].get("score")
        spatial = found["report"]["spatial"].get("score")
    else:
        return None  # the CLI without -o: nothing to read back
    if verdict not in ("agrees", "mirrored", "unrelated", "cannot tell"):
        return f"verdict {verdict!r}"
    if sound_kind in NO_DIRECTION and verdict != "cannot tell":
        return f"verdict {verdict!r} with sound {sound_kind}: must be 'cannot tell'"
    if sound_kind == "none" and av_score is not None:
        return f"AV-Align {av_score} without sound"
    for name, value in (("AV-Align", av_score), ("spatial score", spatial)):
        if value is not None and not (isinstance(value, float | int) and 0 <= value <= 1):
            return f"{name} {value!r} outside [0, 1]"
    return None


# -- batch: manifests for `spa2v batch` -----------------------------------------------------

#: Exit codes ``spa2v batch`` documents besides 0, 2 and 3 (docs/batch.md).
BATCH_FAILED_CODES = set(range(11, 111))
#: Option values the CLI's flags refuse (each fails its manifest row).
BAD_OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "frames": ("0", "-1", "1e9", "x", "2.5", "9" * 5000),
    "fps": ("0", "-3", "nan", "1e9", "fast"),
    "hop_ms": ("0", "-5", "1e6", "nan", "inf"),
    "max_sources": ("0", "-1", "99", "2.5"),
    "keyframe_fps": ("0", "-1", "nan", "1e9"),
    "layout": ("quad", "5.1"),
    "overlay": ("maybe", "2"),
    "planner": ("gpt",),
    "max_duration_s": ("-1", "nan", "abc"),
}
#: Option values every flag takes.
GOOD_OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "frames": ("4", "1"),
    "fps": ("4", "2.5"),
    "hop_ms": ("20", "50"),
    "max_sources": ("1", "2"),
    "keyframe_fps": ("2", "0.5"),
    "layout": ("spaced", "auto", ""),
    "overlay": ("true", "0"),
    "no_tags": ("1", "yes"),
    "planner": ("physics",),
    "max_duration_s": ("60", "0", ""),
}
ROW_KINDS = (
    "good", "good", "good", "missing", "unknown-option", "bad-value", "bad-value",
    "duplicate-id", "bad-id", "reserved-id", "bad-audio", "huge", "non-utf8", "extra-cells",
)  # fmt: skip
MANIFEST_KINDS = ("plain", "plain", "plain", "bom", "crlf", "quoting", "empty", "header-only")
OUT_KINDS = ("new", "new", "new", "new", "empty", "other-batch-resume", "other-batch-resume",
             "other-batch", "not-empty", "file")  # fmt: skip


@dataclass
class Row:
    """One manifest row and what must become of it: "ok", "failed" or "any"."""

    cells: dict[str, str]
    expect: str
    note: str
    raw: bytes | None = None  # bytes that replace the row's CSV/JSONL text


def _batch_row(
    rng: np.random.Generator, ctx: Context, folder: Path, k: int, used: list[str]
) -> Row:
    kind = str(rng.choice(ROW_KINDS))
    clip = _clips(ctx)[int(rng.integers(len(_clips(ctx))))]
    name = f"c{k}{clip.suffix}"
    shutil.copy(clip, folder / name)  # a file of its own: a repeated file runs once
    cells = {"input": name, "id": f"r{k}"}
    if rng.random() < 0.5:
        option = str(rng.choice(list(GOOD_OPTION_VALUES)))
        cells[option] = str(rng.choice(GOOD_OPTION_VALUES[option]))
    if kind == "good":
        return Row(cells, "ok", "good")
    if kind == "missing":
        cells["input"] = str(rng.choice([f"gone{k}.wav", "", "sub/", "/dev/null"]))
        return Row(cells, "failed", f"missing file {cells['input']!r}")
    if kind == "unknown-option":
        cells[str(rng.choice(["colour", "Frames", "size", "--fps"]))] = "1"
        return Row(cells, "failed", "unknown option")
    if kind == "bad-value":
        option = str(rng.choice(list(BAD_OPTION_VALUES)))
        cells[option] = str(rng.choice(BAD_OPTION_VALUES[option]))
        return Row(cells, "failed", f"{option}={cells[option][:12]}")
    if kind == "duplicate-id" and used:
        cells["id"] = str(rng.choice(used))
        return Row(cells, "failed", f"duplicate id {cells['id']}")
    if kind == "bad-id":
        cells["id"] = str(rng.choice(["a b", "../x", ".hidden", "x" * 200, "é", "a/b"]))
        return Row(cells, "failed", f"bad id {cells['id'][:12]!r}")
    if kind == "reserved-id":
        cells["id"] = str(rng.choice(["batch.json", "results.csv", "results.parquet"]))
        return Row(cells, "failed", f"reserved id {cells['id']}")
    if kind == "bad-audio":
        sub = folder / f"bad{k}"
        sub.mkdir()
        path, what = make_audio(rng, sub)
        cells["input"] = path.relative_to(folder).as_posix()
        return Row(cells, "any", f"unusual audio ({what[:40]})")
    if kind == "huge":
        column = str(rng.choice(["input", "id", "frames", "colour"]))
        cells[column] = "x" * int(rng.choice([5_000, 200_000]))
        return Row(cells, "failed", f"huge {column} ({len(cells[column])} characters)")
    if kind == "non-utf8":
        return Row(cells, "failed", "non-UTF-8 bytes", raw=b"\xff\xfe\x80bad")
    # extra cells beyond the header (CSV) / nested values (JSONL)
    return Row(cells, "failed", "extra cells", raw=b"extra")


def _write_manifest(path: Path, rows: list[Row], kind: str, rng: np.random.Generator) -> str:
    """Write the manifest (CSV or JSONL by ``path``'s suffix) with ``kind``'s damage;
    a quoting error fails its row and, in a CSV, may swallow the rows after it (a quoted
    cell runs on to the next quote)."""
    if kind == "empty":
        path.write_bytes(b"")
        return "empty"
    columns = sorted({c for row in rows for c in row.cells}, key=lambda c: (c != "input", c))
    newline = b"\r\n" if kind == "crlf" else b"\n"
    lines: list[bytes] = []
    if path.suffix == ".csv":
        lines.append(",".join(columns).encode())
        for row in rows:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow([row.cells.get(c, "") for c in columns])
            line = buffer.getvalue().encode()
            if row.raw is not None:
                line += b"," + row.raw  # a cell beyond the header, or bytes not UTF-8
            lines.append(line)
    else:
        for row in rows:
            line = json.dumps(row.cells).encode()
            if row.raw == b"extra":
                line = json.dumps({**row.cells, "frames": {"nested": [1]}}).encode()
            elif row.raw is not None:
                line = line[:-1] + b', "note": "' + row.raw + b'"}'
            lines.append(line)
    if kind == "header-only":
        lines = lines[:1] if path.suffix == ".csv" else []
    quote_at = None
    if kind == "quoting" and len(lines) > 1:
        quote_at = int(rng.integers(1 if path.suffix == ".csv" else 0, len(lines)))
        lines[quote_at] = lines[quote_at].replace(b",", b',"', 1).replace(b'"}', b"}", 1)
        first = quote_at - 1 if path.suffix == ".csv" else quote_at
        rows[first].expect, rows[first].note = "failed", rows[first].note + " + quoting error"
        for row in rows[first + 1 :]:
            if path.suffix == ".csv" or row.note == f"duplicate id {rows[first].cells['id']}":
                row.expect = "any"  # swallowed, or repeating an id the broken row lost
    data = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if kind == "bom" else b"") + data)
    return kind if quote_at is None else f"quoting error in line {quote_at + 1}"


def _prepare_out(rng: np.random.Generator, ctx: Context, folder: Path) -> tuple[Path, str]:
    """The batch's output folder: new, empty, holding another batch (with or without
    --resume, with a dead batch's work folders), not empty, or a file."""
    kind = str(rng.choice(OUT_KINDS))
    out = folder / "out" / "batch"
    if kind == "empty":
        out.mkdir()
    elif kind.startswith("other-batch"):
        shutil.copytree(_finished_batch(ctx), out)
        (out / ".stale.part-abc").mkdir()  # a killed batch's work folder
        (out / ".stale.part-abc" / "x.mp4").write_bytes(b"")
    elif kind == "not-empty":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif kind == "file":
        out.write_text("a file")
    return out, kind


def _listing(folder: Path) -> dict[str, int]:
    if folder.is_file():
        return {".": folder.stat().st_size}
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*")}


_EXCEPTION_NAME = re.compile(r"^[A-Z][A-Za-z]*(Error|Exception): ")


def case_batch(rng: np.random.Generator, ctx: Context, folder: Path, via: str) -> tuple[str, str]:
    """``spa2v batch`` (always the command) on a manifest with bad rows, maybe with
    plain files beside it."""
    inputs = folder / "in"
    rows: list[Row] = []
    used: list[str] = []
    for k in range(int(rng.integers(1, 6))):
        rows.append(_batch_row(rng, ctx, inputs, k, used))
        if not rows[-1].note.startswith(("non-UTF-8", "bad id", "reserved", "huge")):
            used.append(rows[-1].cells["id"])  # an id the row keeps: one to repeat
    suffix = str(rng.choice([".csv", ".jsonl"]))
    manifest = inputs / f"clips{suffix}"
    manifest_kind = str(rng.choice(MANIFEST_KINDS))
    manifest_kind = _write_manifest(manifest, rows, manifest_kind, rng)
    if manifest_kind in ("empty", "header-only"):
        rows = []
    argv: list[str] = [str(manifest)]
    extra = str(rng.choice(["none", "none", "file", "missing", "glob"]))
    if extra == "file":
        shutil.copy(_clips(ctx)[0], inputs / "plain.wav")
        argv.append(str(inputs / "plain.wav"))
        rows.append(Row({"input": "plain.wav"}, "ok", "plain file"))
    elif extra in ("missing", "glob"):
        argv.append(str(inputs / ("nothing-*.wav" if extra == "glob" else "nothing.wav")))
        rows.append(Row({"input": "nothing"}, "failed", f"{extra} input"))
    out, out_kind = _prepare_out(rng, ctx, folder)
    workers = str(rng.choice(["1", "2"]))
    argv = ["batch", *argv, "-o", str(out), "--workers", workers, "--no-tags"]
    argv += ["--size", "64x40", "--fps", "4", "--frames", "4"]
    if out_kind == "other-batch-resume":
        argv.append("--resume")
    before = _listing(out) if out.exists() else None
    what = f"batch {suffix} {manifest_kind}, rows " + ", ".join(r.note for r in rows)
    what += f"; out {out_kind}; workers {workers}"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "spa2v", *argv],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=CLI_TIMEOUT_S,
            env=ctx.env,
            cwd=ctx.root,
        )
    except subprocess.TimeoutExpired:
        return what, f"FAIL: no answer within {CLI_TIMEOUT_S} s"
    problem = _judge_batch(proc, out, before, rows, out_kind, manifest_kind)
    return what, (f"FAIL: {problem}" if problem else _batch_result(proc))


def _batch_result(proc: subprocess.CompletedProcess) -> str:
    if proc.returncode == 0:
        return "ok"
    lines = proc.stderr.strip().splitlines()
    return f"error: exit {proc.returncode}: {lines[-1][:200] if lines else ''}"


def _judge_batch(
    proc: subprocess.CompletedProcess,
    out: Path,
    before: dict[str, int] | None,
    rows: list[Row],
    out_kind: str,
    manifest_kind: str,
) -> str | None:
    """A problem with what ``spa2v batch`` did, or None."""
    from spa2v.batch.results import read_results_csv
    from spa2v.batch.runner import failed_exit_code

    code, err = proc.returncode, proc.stderr
    if "Traceback" in err:
        return f"traceback (exit {code}): {err.strip().splitlines()[-1][:200]}"
    if code not in DOCUMENTED_EXIT_CODES | BATCH_FAILED_CODES:
        return f"exit code {code}: {err.strip()[-200:]}"
    refused = out_kind in ("other-batch", "not-empty", "file")
    if code == 2:  # nothing ran: one error line, the folder as it was
        errors = [line for line in err.splitlines() if ": error:" in line]
        if len(errors) != 1 or not errors[0].startswith("spa2v batch: error:"):
            return f"exit 2 without one 'spa2v batch: error:' line: {err[-300:]!r}"
        after = _listing(out) if out.exists() else None
        if after != before:
            return f"refused, but the output folder changed: {before} -> {after}"
        if refused or manifest_kind in ("empty", "header-only"):
            return None  # nothing to run, or a manifest without rows or header
        return f"exit 2 for a batch that should run: {errors[0][:200]}"
    if refused:
        return f"exit {code}: the output folder ({out_kind}) was not refused"
    stray = [p.name for p in out.rglob("*") if ".part" in p.name]
    if stray:
        return f"work folders left: {stray[:3]}"
    try:
        table = read_results_csv(out / "results.csv")
    except (OSError, ValueError, csv.Error) as exc:  # a table the product cannot read back
        return f"no results table: {exc}"
    if not (out / "results.parquet").is_file():
        return "no results.parquet"
    failed = [r for r in table if r["status"] != "ok"]
    if code != failed_exit_code(len(failed)):
        return f"exit {code} with {len(failed)} failed rows (want {failed_exit_code(len(failed))})"
    for row in failed:
        error = row["error"]
        if not error or "\n" in error or _EXCEPTION_NAME.match(error):
            return f"row {row['clip_id']}: not a one-line user error: {error[:200]!r}"
    by_id = {r["clip_id"]: r for r in table}
    swallowed = manifest_kind.startswith("quoting") and any(r.expect == "any" for r in rows)
    for k, row in enumerate(rows):
        found = by_id.get(row.cells.get("id", ""))
        if row.expect == "any" or "id" not in row.cells:
            continue
        if row.note.startswith(("bad id", "dup", "reserved", "huge", "non-UTF-8")) or (
            "quoting" in row.note
        ):
            continue  # the row fails under another id: counted below
        if found is None:
            return f"row {k} ({row.note}) has no row in the results table"
        if row.expect == "ok" and found["status"] != "ok":
            return f"row {k} ({row.note}) failed: {found['error'][:200]}"
        if row.expect == "failed" and found["status"] == "ok":
            return f"row {k} ({row.note}) succeeded"
        if found["status"] == "ok" and not (out / found["video_path"]).is_file():
            return f"row {k} ({row.note}) ok without its video"
    if not swallowed and len(table) != len(rows):
        return f"{len(table)} rows in the results table for {len(rows)} inputs"
    n_ok = sum(r["status"] == "ok" for r in table)
    want_ok = sum(r.expect == "ok" for r in rows)
    want_failed = sum(r.expect == "failed" for r in rows)
    if n_ok < want_ok or len(failed) < want_failed:
        return f"{n_ok} rows ok and {len(failed)} failed; want {want_ok} ok, {want_failed} failed"
    return None


def _clips(ctx: Context) -> list[Path]:
    """Tiny real recordings (simulated, 1-1.5 s at 16 kHz): a car passing, recorded by a
    spaced pair, and a source standing to the left, binaural; made on first use."""
    if not ctx.clips:
        from spa2v.sim.scene import simulate_pass, simulate_static

        for name, sim in (
            ("pass.wav", simulate_pass(format="spaced", duration_s=1.5, sr=16_000, seed=1)),
            ("left.wav", simulate_static(40.0, 3.0, duration_s=1.0, sr=16_000, seed=2)),
        ):
            sf.write(ctx.root / name, sim.signal.samples.T, sim.signal.sr)
            ctx.clips.append(ctx.root / name)
    return ctx.clips


def _finished_batch(ctx: Context) -> Path:
    """A finished batch of one clip, run with the options every batch case uses, for
    the cases whose output folder already holds a batch."""
    out = ctx.root / "finished-batch"
    if not out.is_dir():
        argv = ["batch", str(_clips(ctx)[0]), "-o", str(out), "--workers", "1", "--no-tags"]
        argv += ["--size", "64x40", "--fps", "4", "--frames", "4"]
        subprocess.run(
            [sys.executable, "-m", "spa2v", *argv],
            capture_output=True,
            env=ctx.env,
            cwd=ctx.root,
            timeout=CLI_TIMEOUT_S,
            check=True,
        )
    return out


CASES: dict[str, Callable[[np.random.Generator, Context, Path, str], tuple[str, str]]] = {
    "audio": case_audio,
    "layout": case_layout,
    "cues": case_cues,
    "llm": case_llm,
    "manifest": case_manifest,
    "run": case_run,
    "eval": case_eval,
    "batch": case_batch,
}


# -- the campaign -------------------------------------------------------------------------


class _CaseTimeout(BaseException):
    """Raised by SIGALRM when a case runs past ``CASE_TIMEOUT_S`` (not an Exception, so
    that no ``except Exception`` in the code under test swallows it)."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _CaseTimeout


@contextlib.contextmanager
def context(root: Path) -> Iterator[Context]:
    """Small valid inputs the mutations start from, and the chat server."""
    from spa2v.sim.scene import simulate_static

    root.mkdir(parents=True, exist_ok=True)
    sim = simulate_static(30.0, 3.0, format="spaced", duration_s=1.0, sr=16_000, seed=1)
    good_audio = root / "good.wav"
    sf.write(good_audio, sim.signal.samples.T, sim.signal.sr)
    cues = api.hear(good_audio, tags=False)
    good_cues = cues.save(root / "good.cues.json")
    layout = api.plan(cues).to_dict()
    # The commands run in the case folders and must import the spa2v this process does
    # (a relative PYTHONPATH would not resolve there, and find an installed copy).
    path = [str(Path(api.__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": os.pathsep.join(path)}
    with chat_server() as (base_url, script):
        yield Context(
            root=root,
            base_url=base_url,
            script=script,
            good_audio=good_audio,
            good_cues=good_cues,
            layout_template=layout,
            cues_template=json.loads(good_cues.read_text()),
            env=env,
        )


def run_campaign(
    n_cases: int,
    seed: int = 0,
    cli_every: int = 12,
    root: Path | None = None,
    progress: Callable[[Outcome], None] | None = None,
    families: Sequence[str] | None = None,
) -> list[Outcome]:
    """Run ``n_cases`` cases; every ``cli_every``-th goes through the command line.

    ``families`` keeps only those of :data:`FAMILIES` (in its order and proportions, so
    a case keeps its index, input and route whatever else is chosen)."""
    cycle = [f for f in FAMILIES if families is None or f in families]
    if not cycle:
        raise ValueError(f"no case families in {families}; choose from {sorted(CASES)}")
    logging.getLogger("spa2v").setLevel(logging.CRITICAL)  # warnings are expected here
    signal.signal(signal.SIGALRM, _on_alarm)
    outcomes = []
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="spa2v-fuzz-")))
        ctx = stack.enter_context(context(root))
        for index in range(n_cases):
            family = cycle[index % len(cycle)]
            via = "cli" if cli_every and index % cli_every == cli_every - 1 else "api"
            via = "cli" if family == "batch" else via  # a batch runs as a command
            rng = np.random.default_rng([seed, index])
            folder = root / f"case-{index:05d}"
            (folder / "in").mkdir(parents=True)
            (folder / "out").mkdir()
            start = time.perf_counter()
            signal.alarm(CASE_TIMEOUT_S)  # an in-process case that hangs is a failure too
            try:
                what, result = CASES[family](rng, ctx, folder, via)
            except _CaseTimeout:
                what, result = "?", f"FAIL: no result within {CASE_TIMEOUT_S} s (hangs)"
            except Exception as exc:  # the generator itself broke: report, go on
                what, result = "generator", f"FAIL: harness {type(exc).__name__}: {exc}"
            finally:
                signal.alarm(0)
            outcome = Outcome(index, family, via, what, result, time.perf_counter() - start)
            stray = [p.name for p in (folder / "in").iterdir() if ".part" in p.name]
            if stray and not outcome.failed:
                outcome.result = f"FAIL: temporary files next to the input: {stray}"
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
            shutil.rmtree(folder, ignore_errors=True)
    return outcomes


def peak_memory_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MB."""
    to_mb = 1 / 1024  # ru_maxrss is in kB on Linux
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * to_mb,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * to_mb,
    )


def summarise(outcomes: list[Outcome], memory_bound_mb: float) -> dict[str, Any]:
    self_mb, child_mb = peak_memory_mb()
    failures = [o for o in outcomes if o.failed]
    return {
        "cases": len(outcomes),
        "cli_cases": sum(o.via == "cli" for o in outcomes),
        "by_family": dict(Counter(o.family for o in outcomes)),
        "ok": sum(o.result == "ok" for o in outcomes),
        "clear_errors": sum(o.result.startswith("error") for o in outcomes),
        "failures": len(failures),
        "tracebacks": sum("traceback" in o.result for o in failures),
        "undocumented_exit_codes": sum("exit code" in o.result for o in failures),
        "partial_outputs": sum(
            any(w in o.result for w in ("left", "temporary", "unexpected")) for o in failures
        ),
        "peak_rss_mb": round(self_mb, 1),
        "peak_child_rss_mb": round(child_mb, 1),
        "memory_bound_mb": memory_bound_mb,
        "memory_ok": max(self_mb, child_mb) <= memory_bound_mb,
        "seconds": round(sum(o.seconds for o in outcomes), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1200, help="number of cases (default 1200)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    parser.add_argument(
        "--cli-every", type=int, default=12, help="every Nth case through the CLI (default 12)"
    )
    parser.add_argument(
        "--memory-bound-mb", type=float, default=DEFAULT_MEMORY_BOUND_MB, help="peak RSS bound"
    )
    parser.add_argument(
        "--families",
        help=f"comma-separated case families to run (default: all; {', '.join(CASES)})",
    )
    parser.add_argument("--report", type=Path, help="write every case's outcome as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = parser.parse_args(argv)

    def show(outcome: Outcome) -> None:
        if args.verbose or outcome.failed:
            print(f"{outcome.index:5d} {outcome.family:8s} {outcome.via} {outcome.what[:90]}")
            print(f"      -> {outcome.result[:300]}", flush=True)
        elif outcome.index % 50 == 49:
            print(f"{outcome.index + 1} cases done", flush=True)

    families = args.families.split(",") if args.families else None
    unknown = sorted(set(families or []) - set(CASES))
    if unknown:
        parser.error(f"unknown case families {unknown}; choose from {', '.join(CASES)}")
    outcomes = run_campaign(args.cases, args.seed, args.cli_every, progress=show, families=families)
    summary = summarise(outcomes, args.memory_bound_mb)
    print(json.dumps(summary, indent=2))
    if args.report:
        args.report.write_text(
            json.dumps({"summary": summary, "cases": [asdict(o) for o in outcomes]}, indent=1)
        )
    return 1 if summary["failures"] or not summary["memory_ok"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fuzzing campaign: every input either works or fails clearly.

Generates malformed and unusual inputs deterministically from a seed and feeds them to
the Python API (most cases, in this process) and to the ``spa2v`` command (a share of
the cases, one process each): recordings (random and truncated bytes under audio and
video extensions, every container and codec PyAV and soundfile write, 1 Hz-384 kHz,
0-16 channels, 0 and 1 samples, NaN/inf, DC, clipping, very long), layouts and cue
files with random JSON mutations (huge or negative numbers, unicode and very long
names, 10,000 objects or keyframes), answers of an LLM server (garbage, truncated,
huge, schema-invalid, HTTP errors; a real HTTP server on 127.0.0.1) and ``bench
--real`` manifests.

Each case passes when:

- nothing raises but :class:`spa2v.errors.Spa2vError` (API), and the command exits
  with a documented code (0, 2, 3) with no traceback and one error line (CLI);
- no partial or orphaned output: after a failure the output folder is as it was
  (empty), after a success it holds only the expected files, and no temporary
  (``.part``) file is anywhere;
- peak memory stays under ``--memory-bound-mb`` (this process and its children,
  ``resource.getrusage``).

Usage::

    .venv/bin/python benchmarks/fuzz_inputs.py --cases 1200            # full campaign
    .venv/bin/python benchmarks/fuzz_inputs.py --cases 60 --cli-every 6 # quick look

Exit status 1 when any case fails; ``--report FILE.json`` keeps every case's outcome.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import math
import os
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
from collections.abc import Callable, Iterator
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
FAMILIES = ("audio", "audio", "audio", "layout", "layout", "cues", "llm", "manifest", "run")
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


CASES: dict[str, Callable[[np.random.Generator, Context, Path, str], tuple[str, str]]] = {
    "audio": case_audio,
    "layout": case_layout,
    "cues": case_cues,
    "llm": case_llm,
    "manifest": case_manifest,
    "run": case_run,
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
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
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
) -> list[Outcome]:
    """Run ``n_cases`` cases; every ``cli_every``-th goes through the command line."""
    logging.getLogger("spa2v").setLevel(logging.CRITICAL)  # warnings are expected here
    signal.signal(signal.SIGALRM, _on_alarm)
    outcomes = []
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="spa2v-fuzz-")))
        ctx = stack.enter_context(context(root))
        for index in range(n_cases):
            family = FAMILIES[index % len(FAMILIES)]
            via = "cli" if cli_every and index % cli_every == cli_every - 1 else "api"
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
    parser.add_argument("--report", type=Path, help="write every case's outcome as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = parser.parse_args(argv)

    def show(outcome: Outcome) -> None:
        if args.verbose or outcome.failed:
            print(f"{outcome.index:5d} {outcome.family:8s} {outcome.via} {outcome.what[:90]}")
            print(f"      -> {outcome.result[:300]}", flush=True)
        elif outcome.index % 50 == 49:
            print(f"{outcome.index + 1} cases done", flush=True)

    outcomes = run_campaign(args.cases, args.seed, args.cli_every, progress=show)
    summary = summarise(outcomes, args.memory_bound_mb)
    print(json.dumps(summary, indent=2))
    if args.report:
        args.report.write_text(
            json.dumps({"summary": summary, "cases": [asdict(o) for o in outcomes]}, indent=1)
        )
    return 1 if summary["failures"] or not summary["memory_ok"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

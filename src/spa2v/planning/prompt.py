"""The LLM planner's prompt: a director's brief, the heard cues as text, and examples.

The paper's recipe (SpA2V, section 3.2): a system prompt that casts the model as a
video director, the spatial cues of the recording, three in-context examples retrieved
from an example bank by kNN, chain-of-thought reasoning, then the layout as JSON.
Everything here is plain text building, so the prompt can be read and tested offline.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from spa2v.hearing.cues import Cues
from spa2v.planning.bank import BankRecord
from spa2v.planning.cue_text import cue_summary

SYSTEM_PROMPT = """\
You are a film director. From the soundtrack of a short clip you plan where every \
sounding object appears on screen, keyframe by keyframe, so that a generated video \
matches what is heard: a car heard passing from right to left is seen passing from \
right to left, a piano heard on the left stands on the left of the frame.

The camera stands where the listener is, 1.5 m above the ground, looking straight \
ahead, level, with a 90 degree horizontal field of view on a 512x320 canvas. \
Azimuth is in degrees, 0 = straight ahead, POSITIVE = to the LEFT. A source at azimuth \
a appears at horizontal position x = 0.5 - 0.5 * tan(a) (0 = left edge, 1 = right edge); \
a source at |azimuth| >= 45 deg is outside the picture and >= 90 deg is behind. Louder \
means closer (+6 dB per halving of distance); a closer object has a bigger box. Objects \
that stand on the ground have the bottom of their box below the horizon (y = 0.5); \
flying ones are above it.

You write a Video Scene Layout (VSL), JSON with exactly these fields:
{"schema": "spa2v.vsl/1", "duration": seconds, "fps": keyframes per second,
 "width": 512, "height": 320, "caption": one sentence describing the whole video,
 "background": the scene behind the objects,
 "objects": [{"id": 0, "name": drawable noun, "audio_label": what was heard,
              "motion": one of "static", "left-to-right", "right-to-left",
              "approaching", "receding", "other"}],
 "frames": [{"t": seconds, "caption": what this keyframe shows,
             "boxes": [{"id": 0, "box": [x0, y0, x1, y1]}]}],
 "reasoning": a short summary of the cues that led to the layout}
Boxes are normalized to [0, 1], origin top-left, x0 < x1, y0 < y1. Frames are in \
ascending time within [0, duration]. An object out of view or silent in a keyframe is \
simply not listed in that frame.

Answer in two parts: first "Reasoning:" where you think step by step about what each \
source is, where it is and how it moves; then the layout as JSON in one ```json fenced \
block, and nothing after it."""


def _example_block(number: int, record: BankRecord) -> str:
    layout = json.dumps(record.vsl, separators=(",", ":"), ensure_ascii=False)
    return (
        f"### Example {number} (id: {record.id})\n"
        f"Cues:\n{record.summary}\n"
        f"Layout:\n```json\n{layout}\n```"
    )


def user_prompt(
    cues: Cues, examples: Sequence[BankRecord], keyframe_times_s: Sequence[float], fps: float
) -> str:
    """The user message: retrieved examples, then the cues of this recording and the task."""
    blocks = []
    if examples:
        blocks.append(
            f"Here are {len(examples)} recordings similar to this one and the layouts a "
            "director made for them."
        )
        blocks += [_example_block(i + 1, rec) for i, rec in enumerate(examples)]
    times = ", ".join(f"{t:g}" for t in keyframe_times_s)
    blocks.append(
        "### Your recording\n"
        f"Cues:\n{cue_summary(cues)}\n\n"
        f"Write its layout: duration {cues.duration_s:g} s, fps {fps:g}, one frame at each "
        f"of these times: {times}. Think step by step first (Reasoning:), then give the "
        "VSL JSON in a ```json fenced block."
    )
    return "\n\n".join(blocks)


def audio_part(wav_bytes: bytes) -> dict[str, Any]:
    """An ``input_audio`` content part (chat-completions format) for a WAV file."""
    return {
        "type": "input_audio",
        "input_audio": {"data": base64.b64encode(wav_bytes).decode("ascii"), "format": "wav"},
    }


def build_messages(
    cues: Cues,
    examples: Sequence[BankRecord],
    keyframe_times_s: Sequence[float],
    fps: float,
    wav_bytes: bytes | None = None,
) -> list[dict[str, Any]]:
    """System + user messages for the chat-completions request.

    With ``wav_bytes`` the user message has two parts: the text and the audio itself
    (for models that accept audio input, e.g. Gemini or gpt-4o-audio).
    """
    text = user_prompt(cues, examples, keyframe_times_s, fps)
    content: str | list[dict[str, Any]] = text
    if wav_bytes is not None:
        content = [{"type": "text", "text": text}, audio_part(wav_bytes)]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": content},
    ]


def feedback_message(error: str) -> dict[str, Any]:
    """The follow-up user message when an answer did not validate."""
    return {
        "role": "user",
        "content": (
            f"That layout is not valid: {error}\n"
            "Fix it and reply again: a short Reasoning: then the complete corrected VSL "
            "JSON in one ```json fenced block."
        ),
    }

"""An example bank made with the simulator: simulate -> hear -> tag, with the layout
drawn from the simulator's ground truth (:func:`truth_layout`).

The shipped bank (``spa2v/data/bank/default.jsonl``) is made here by
``spa2v bank build``; users add their own recordings with ``spa2v bank add``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.progress import track

from spa2v.hearing.extract import hear
from spa2v.hearing.tagging.tag import tag_cues
from spa2v.nouns import noun_info
from spa2v.planning.bank import ExampleBank, make_record
from spa2v.planning.captions import object_phrase, position_word, scene_caption
from spa2v.planning.physics import keyframe_times
from spa2v.planning.vsl import MOTIONS, VSL, parse_vsl
from spa2v.sim import simulate_pass, simulate_radial, simulate_sources, simulate_static

#: Sources the simulator bank draws from (all render offline on a CPU).
STATIC_CLIPS = ("piano", "guitar", "violin", "cello", "trumpet", "flute", "drums", "speech")
MOVING_CLIPS = ("engine", "bus", "truck")
BANK_FORMATS = ("binaural", "spaced", "foa", "panned")


def truth_layout(result: Any, fps: float = 8.0) -> VSL:
    """The ground-truth VSL of a simulated clip (boxes from the true positions).

    An object is listed in a keyframe while it sounds and is in view, as the planners do.
    """
    duration_s = float(result.spec.duration_s)
    times_s, fps = keyframe_times(duration_s, fps=fps)
    objects, phrases, reasons = [], [], []
    frames: list[dict[str, Any]] = [{"t": round(float(t), 4), "boxes": []} for t in times_s]
    for k, truth in enumerate(result.truth):
        info = noun_info(truth.noun)
        motion = truth.motion if truth.motion in MOTIONS else "other"
        objects.append(
            {"id": k, "name": truth.noun, "audio_label": truth.audio_label, "motion": motion}
        )
        active = np.interp(times_s, truth.times_s, truth.active.astype(float)) > 0.5
        for frame, box, on in zip(frames, truth.boxes(times_s), active, strict=True):
            if box is not None and on:
                frame["boxes"].append({"id": k, "box": [round(float(v), 4) for v in box]})
                where = position_word((box[0] + box[2]) / 2)
                frame["caption"] = "; ".join(
                    filter(None, [frame.get("caption", ""), f"the {truth.noun} {where}"])
                )
        az = truth.azimuth_at(times_s)
        dist = np.interp(times_s, truth.times_s, truth.distance_m)
        phrases.append(
            object_phrase(
                truth.noun,
                info.family,
                motion,
                0.5 - 0.5 * np.tan(np.radians(np.clip(np.median(az), -89.0, 89.0))),
            )
        )
        reasons.append(
            f"the {truth.noun} is heard from {az[0]:+.0f} deg to {az[-1]:+.0f} deg "
            f"(positive = left), {dist[0]:.0f} m to {dist[-1]:.0f} m away: {motion}; "
            f"drawn {truth.width_m:g} x {truth.height_m:g} m "
            f"{'in the air' if truth.flying else 'on the ground'}"
        )
    scene = result.spec.background or noun_info(result.truth[0].noun).scene
    data = {
        "schema": "spa2v.vsl/1",
        "duration": duration_s,
        "fps": fps,
        "caption": scene_caption(phrases, scene),
        "background": scene,
        "objects": objects,
        "frames": frames,
        "reasoning": "; ".join(reasons) + ".",
    }
    return parse_vsl(data)


def _bank_scene(index: int, rng: np.random.Generator, duration_s: float) -> Any:
    """The ``index``-th simulated example: cycles scene types and formats, random details."""
    fmt = BANK_FORMATS[index % len(BANK_FORMATS)]
    kind = ("static", "pass", "radial", "static-2")[(index // len(BANK_FORMATS)) % 4]
    seed = int(rng.integers(1 << 30))
    if kind == "static":
        clip = STATIC_CLIPS[int(rng.integers(len(STATIC_CLIPS)))]
        return simulate_static(
            float(rng.uniform(-40, 40)),
            float(rng.uniform(2.5, 5.0)),
            clip=clip,
            rt60_s=float(rng.uniform(0.2, 0.6)),
            format=fmt,
            duration_s=duration_s,
            seed=seed,
        )
    if kind == "static-2":
        a, b = rng.choice(len(STATIC_CLIPS), size=2, replace=False)
        return simulate_sources(
            [
                (float(rng.uniform(15, 40)), float(rng.uniform(2.5, 5.0)), STATIC_CLIPS[a]),
                (float(rng.uniform(-40, -15)), float(rng.uniform(2.5, 5.0)), STATIC_CLIPS[b]),
            ],
            rt60_s=float(rng.uniform(0.2, 0.6)),
            format=fmt,
            duration_s=duration_s,
            seed=seed,
        )
    clip = MOVING_CLIPS[int(rng.integers(len(MOVING_CLIPS)))]
    if kind == "pass":
        direction = ("left-to-right", "right-to-left")[int(rng.integers(2))]
        return simulate_pass(
            direction,
            speed_mps=float(rng.uniform(10, 20)),
            closest_m=float(rng.uniform(8, 15)),
            clip=clip,
            format=fmt,
            duration_s=duration_s,
            seed=seed,
        )
    motion = ("approaching", "receding")[int(rng.integers(2))]
    return simulate_radial(
        motion,
        speed_mps=float(rng.uniform(6, 12)),
        azimuth_deg=float(rng.uniform(-25, 25)),
        near_m=float(rng.uniform(5, 10)),
        clip=clip,
        format=fmt,
        duration_s=duration_s,
        seed=seed,
    )


def build_bank(
    n: int = 40, seed: int = 2024, duration_s: float = 4.0, progress: bool = False
) -> ExampleBank:
    """Make an example bank from ``n`` simulated clips: simulate -> hear -> tag -> truth VSL.

    Deterministic in ``seed``. The clips cycle through static instruments (one or two,
    in a room), vehicles passing either way, approaching and receding, in the binaural,
    spaced, FOA and panned formats.
    """
    rng = np.random.default_rng(seed)
    bank = ExampleBank()
    indices = track(range(n), description="bank clips", disable=not progress)
    for index in indices:
        result = _bank_scene(index, rng, duration_s)
        cues = tag_cues(result.signal, hear(result.signal))
        origin = f"simulated {result.spec.format} {result.spec.scene_type} " + ", ".join(
            f"{t.clip} {t.motion}" for t in result.truth
        )
        bank.add(make_record(cues, truth_layout(result), f"sim-{index:04d}", origin))
    return bank

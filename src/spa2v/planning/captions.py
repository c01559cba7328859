"""The words of a layout: the global caption, per-frame captions and the reasoning that
names the cues behind each object (what a person would write about the scene)."""

from __future__ import annotations

import numpy as np

from spa2v.camera import azimuth_to_x, horizontal_zone
from spa2v.hearing.cues import Cues
from spa2v.hearing.summary import source_number
from spa2v.planning.source_plan import SourcePlan

# Verbs for captions, by family (what a person would write); "moves"/"sounds" otherwise.
_MOVING_VERBS = {
    "vehicle": "drives",
    "train": "passes",
    "aircraft": "flies",
    "boat": "sails",
    "person": "walks",
    "dog": "runs",
    "horse": "gallops",
    "bird": "flies",
    "insect": "flies",
}
_STATIC_VERBS = {
    "instrument": "plays",
    "person": "speaks",
    "dog": "barks",
    "bell": "rings",
    "alarm": "rings",
    "telephone": "rings",
    "clock": "ticks",
    "vehicle": "idles",
}


def position_word(x: float) -> str:
    """'on the left' / 'in the centre' / 'on the right' for a box centre x."""
    zone = horizontal_zone(x)
    return "in the centre" if zone == "centre" else f"on the {zone}"


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _scene_phrase(scene: str) -> str:
    on_words = ("street", "highway", "road", "railway", "stage", "field", "farm", "track")
    prep = "on" if scene.split()[-1] in on_words else "in"
    return f"{prep} {scene}"


def object_phrase(noun: str, family: str, motion: str, x: float) -> str:
    """Caption phrase of one object, e.g. 'a car drives past from right to left'.

    ``x`` (box centre) places a static object: 'a piano plays on the left'.

    >>> object_phrase("car", "vehicle", "right-to-left", 0.5)
    'a car drives past from right to left'
    """
    moving = _MOVING_VERBS.get(family, "moves")
    if motion == "left-to-right":
        return f"{_article(noun)} {moving} past from left to right"
    if motion == "right-to-left":
        return f"{_article(noun)} {moving} past from right to left"
    if motion == "approaching":
        return f"{_article(noun)} {moving} towards the camera"
    if motion == "receding":
        return f"{_article(noun)} {moving} away from the camera"
    return f"{_article(noun)} {_STATIC_VERBS.get(family, 'sounds')} {position_word(x)}"


def scene_caption(phrases: list[str], scene: str) -> str:
    """Global caption: the object phrases joined, then where ('... on a street')."""
    return " and ".join(phrases) + " " + _scene_phrase(scene)


def plan_phrase(plan: SourcePlan) -> str:
    """Caption phrase of a planned object, placed by its median azimuth."""
    x = float(azimuth_to_x(float(np.median(plan.azimuth_deg[plan.present]))))
    return object_phrase(plan.prior.noun, plan.prior.family, plan.motion, x)


def frame_caption(plans: list[SourcePlan], k: int) -> str:
    """Caption of keyframe ``k``: where each object in view is."""
    parts = []
    for plan in plans:
        box = plan.boxes[k]
        if box is None:
            continue
        parts.append(f"{_article(plan.prior.noun)} {position_word((box[0] + box[2]) / 2)}")
    return "; ".join(parts) if parts else "nothing in view"


def reasoning_text(cues: Cues, plans: list[SourcePlan], fps: float) -> str:
    """The VSL's ``reasoning``: for each object, the cues that led to its layout."""
    lines = [
        f"{cues.layout} recording, {cues.duration_s:.1f} s, {len(plans)} audible source(s); "
        f"keyframes at {fps:g}/s; objects are listed only while sounding and in view."
    ]
    if not cues.lateral_info:
        lines.append(
            "The recording has no left/right information (its two channels carry the same "
            "signal): objects are placed by priors, in the centre, and no lateral motion "
            "is drawn."
        )
    elif cues.stereo:
        lines.append(
            f"Stereo kind {cues.stereo['kind']} (sure {cues.stereo['confidence']:.2f}): "
            f"{cues.stereo['evidence']}."
        )
    for plan in plans:
        f = plan.facts
        chosen = next(
            (lab for lab in plan.track.labels if lab.audio_label == plan.audio_label), None
        )
        score = chosen.score if chosen else 0.0
        bits = [
            f"azimuth went from {f['az_start_deg']:+.0f} to {f['az_end_deg']:+.0f} deg "
            f"(trend {f['az_trend_deg']:+.0f} deg, R^2 {f['az_trend_r2']:.2f})",
            f"loudness peaked at {f['peak_s']:.1f} s "
            f"(trend {f['level_trend_db']:+.1f} dB, R^2 {f['level_trend_r2']:.2f})",
        ]
        if "distance_trend_db" in f:
            bits.append(
                f"heard distance (level outdoors, direct-to-reverberant ratio in a room) "
                f"{'fell' if f['distance_trend_db'] > 0 else 'grew'} by "
                f"{abs(f['distance_trend_db']):.1f} dB (R^2 {f['distance_trend_r2']:.2f})"
            )
        if "pitch_change" in f:
            change = f["pitch_change"]
            bits.append(f"pitch {'fell' if change < 0 else 'rose'} {abs(change) * 100:.0f}%")
        if "speed_mps" in f:
            bits.append(f"Doppler speed ~{f['speed_mps']:.0f} m/s")
        summary = (
            f"hearing said lateral={plan.track.lateral_motion}, depth={plan.track.depth_motion}"
        )
        if plan.label_choice:
            bits.append(plan.label_choice)
        where = "in the air" if plan.prior.flying else "on the ground"
        lines.append(
            f"object {plan.object_id} (source {source_number(plan.track.source_id)}, heard as "
            f"{plan.audio_label} {score:.2f} -> {plan.prior.noun}): "
            + "; ".join(bits)
            + f"; {summary} -> {plan.motion}. Drawn {plan.prior.width_m:g} x "
            f"{plan.prior.height_m:g} m {where}, {_distance_words(plan)}."
        )
    return "\n".join(lines)


def _distance_words(plan: SourcePlan) -> str:
    prior = f"{plan.prior.family} prior {plan.prior.distance_m:g} m"
    if plan.motion in ("approaching", "receding"):
        near, far = float(np.min(plan.distance_m)), float(np.max(plan.distance_m))
        return f"{near:.0f}-{far:.0f} m away from the depth trend (1/r, {prior})"
    if plan.motion in ("left-to-right", "right-to-left"):
        return f"passing at {plan.prior.distance_m:g} m depth ({prior})"
    return f"at {plan.prior.distance_m:g} m ({prior})"

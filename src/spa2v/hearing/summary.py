"""One readable line per source, for the ``spa2v cues`` command and the LLM planner.

Example: ``source 1: 0.0-4.0 s, moves right to left (az -38 -> +41 deg), approaches then
recedes, pitch falls 8% (~12 m/s)``.
"""

from __future__ import annotations

import numpy as np

from spa2v.hearing.cues import CueTrack, heard_direction

#: Azimuths within this of 0 are "centre".
CENTRE_DEG = 10.0
#: Pitch changes smaller than this are not mentioned.
PITCH_CHANGE_MIN = 0.01

_DEPTH_WORDS = {
    "approaching": "approaches",
    "receding": "recedes",
    "approaching-then-receding": "approaches then recedes",
    "static": "stays at about the same distance",
    "other": "distance varies",
}


def side(azimuth_deg: float) -> str:
    """``left``, ``right`` or ``centre`` for an azimuth (positive = left).

    >>> side(30.0), side(-30.0), side(4.0)
    ('left', 'right', 'centre')
    """
    if azimuth_deg > CENTRE_DEG:
        return "left"
    if azimuth_deg < -CENTRE_DEG:
        return "right"
    return "centre"


def _edge_azimuths(track: CueTrack, layout: str) -> tuple[float, float]:
    """Median azimuth of the first and last fifth of the frames heard with a direction."""
    use = heard_direction(track, layout)
    if use.sum() < 2:
        use = track.active
    az = track.azimuth_deg[use]
    n_edge = max(1, az.size // 5)
    return float(np.median(az[:n_edge])), float(np.median(az[-n_edge:]))


def source_number(source_id: int) -> int:
    """The number people see for a source: counted from 1 (``source_id`` counts from 0).

    >>> source_number(0)
    1
    """
    return source_id + 1


def describe_source(track: CueTrack, layout: str) -> str:
    """A one-line summary of a source's cue track, heard in a recording of ``layout``.

    Example
    -------
    >>> t = np.linspace(0, 4, 161)
    >>> az = np.where(t < 2, -38.0, 41.0)
    >>> track = CueTrack(0, t, np.ones(161, bool), np.zeros(161), az, np.ones(161),
    ...                  lateral_motion="right-to-left",
    ...                  depth_motion="approaching-then-receding", pitch_change_ratio=-0.08,
    ...                  speed_mps=12.0)
    >>> print(describe_source(track, "binaural"))  # doctest: +NORMALIZE_WHITESPACE
    source 1: 0.0-4.0 s, moves right to left (az -38 -> +41 deg), approaches then recedes,
    pitch falls 8% (~12 m/s)
    """
    head = f"source {source_number(track.source_id)}"
    label = track.top_label
    if label is not None:
        head += f" ({label.noun}: {label.audio_label} {label.score:.2f})"
    start_s, end_s = track.span_s
    parts = [f"{head}: {start_s:.1f}-{end_s:.1f} s"]
    if not track.active.any():
        return parts[0] + ", silent"

    if not np.any(track.azimuth_confidence > 0):
        parts.append("direction unknown (mono)")
    else:
        az_start, az_end = _edge_azimuths(track, layout)
        if track.lateral_motion == "static":
            az = float(np.median(track.azimuth_deg[track.active]))
            where = side(az)
            text = f"static {where}" if where == "centre" else f"static on the {where}"
            parts.append(f"{text} (az {az:+.0f} deg)")
        elif track.lateral_motion in ("left-to-right", "right-to-left"):
            words = track.lateral_motion.replace("-", " ")
            parts.append(f"moves {words} (az {az_start:+.0f} -> {az_end:+.0f} deg)")
        else:
            low, high = np.percentile(track.azimuth_deg[track.active], [5, 95])
            parts.append(f"moves about (az {low:+.0f} .. {high:+.0f} deg)")
        if track.elevation_deg is not None:
            el = float(np.median(track.elevation_deg[track.active]))
            if abs(el) >= CENTRE_DEG:
                parts.append(f"{'above' if el > 0 else 'below'} ear level (el {el:+.0f} deg)")

    parts.append(_DEPTH_WORDS.get(track.depth_motion, track.depth_motion))
    ratio = track.pitch_change_ratio
    if ratio is not None and abs(ratio) >= PITCH_CHANGE_MIN:
        text = f"pitch {'falls' if ratio < 0 else 'rises'} {abs(ratio) * 100:.0f}%"
        if track.speed_mps is not None:
            text += f" (~{track.speed_mps:.0f} m/s)"
        parts.append(text)
    return ", ".join(parts)

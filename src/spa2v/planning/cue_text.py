"""The heard cues of a recording as text, one line per source: what the LLM planner's
prompt quotes and what each example-bank record keeps beside its layout."""

from __future__ import annotations

import numpy as np

from spa2v.hearing.cues import Cues, CueTrack
from spa2v.hearing.summary import side


def _edge(values: np.ndarray, idx: np.ndarray, first: bool, frac: float = 0.15) -> float:
    n = max(1, round(frac * idx.size))
    sel = values[idx[:n] if first else idx[-n:]]
    sel = sel[np.isfinite(sel)]
    return float(np.median(sel)) if sel.size else float("nan")


def describe_track(track: CueTrack) -> str:
    """One paragraph of text about one source's cues (what, where, how it moves).

    Example
    -------
    >>> describe_track(track)  # doctest: +SKIP
    'source 0: heard as Car (0.82) -> "car"; sounding 0.0-4.0 s; azimuth from -38 deg ...'
    """
    active = np.asarray(track.active, dtype=bool)
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return f"source {track.source_id}: never clearly audible"
    t = np.asarray(track.times_s, dtype=float)
    az = np.asarray(track.azimuth_deg, dtype=float)
    level = np.asarray(track.loudness_db, dtype=float)
    if track.labels:
        heard = ", ".join(f"{lab.audio_label} ({lab.score:.2f})" for lab in track.labels[:3])
        noun = track.labels[0].noun
    else:
        heard, noun = "unknown", "unknown"
    az0, az1 = _edge(az, idx, True), _edge(az, idx, False)
    peak = idx[int(np.argmax(np.where(np.isfinite(level[idx]), level[idx], -np.inf)))]
    if noun in ("", "unknown"):
        what = "not recognised, draw a generic sound source"
    else:
        what = f"draw {'an' if noun[0] in 'aeiou' else 'a'} {noun}"
    parts = [
        f"source {track.source_id}: heard as {heard} -> {what}",
        f"sounding {t[idx[0]]:.1f}-{t[idx[-1]]:.1f} s",
        f"azimuth from {az0:+.0f} deg ({side(az0)}) to {az1:+.0f} deg ({side(az1)})",
        f"loudness {_edge(level, idx, True):.0f} dB at the start, peak {level[peak]:.0f} dB at "
        f"{t[peak]:.1f} s, {_edge(level, idx, False):.0f} dB at the end",
    ]
    if track.elevation_deg is not None and np.any(np.isfinite(track.elevation_deg[idx])):
        parts.append(f"elevation about {np.nanmedian(track.elevation_deg[idx]):+.0f} deg")
    if track.pitch_change_ratio is not None and np.isfinite(track.pitch_change_ratio):
        change = track.pitch_change_ratio
        parts.append(f"pitch {'fell' if change < 0 else 'rose'} {abs(change) * 100:.0f}%")
    if track.speed_mps is not None and np.isfinite(track.speed_mps):
        parts.append(f"Doppler speed about {track.speed_mps:.0f} m/s")
    parts.append(f"motion heard: lateral {track.lateral_motion}, depth {track.depth_motion}")
    return "; ".join(parts)


def cue_summary(cues: Cues) -> str:
    """The heard cues of a recording as text, one line per source (the prompt's input).

    >>> print(cue_summary(cues))  # doctest: +SKIP
    recording: binaural stereo, 4.0 s, 1 source(s)
    source 0: heard as Car (0.82) -> draw a car; sounding 0.0-4.0 s; azimuth from ...
    """
    lines = [f"recording: {cues.layout}, {cues.duration_s:.1f} s, {len(cues.sources)} source(s)"]
    lines += [describe_track(track) for track in cues.sources]
    return "\n".join(lines)

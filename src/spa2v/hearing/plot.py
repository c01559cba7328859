"""A picture of the cue tracks: azimuth, loudness and pitch over time, one colour per source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import rcParams
from matplotlib.figure import Figure

from spa2v.hearing.cues import Cues, heard_direction
from spa2v.hearing.summary import source_number
from spa2v.io.atomic import atomic_path


def plot_cues(cues: Cues, path: str | Path) -> Path:
    """Write a PNG with three panels (azimuth, loudness, pitch) and return its path.

    Inactive frames are left out of each line; the azimuth line is drawn thin where
    its confidence is low. The file is written atomically.
    """
    # A bare Figure (no pyplot: no window, no global figure list) with fixed margins:
    # the panels' labels are always of the same kind, and ``tight_layout`` measuring
    # them cost a third of the plot's time.
    fig = Figure(figsize=(9, 7))
    axes = fig.subplots(3, 1, sharex=True)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.07, top=0.95, hspace=0.1)
    ax_az, ax_db, ax_f0 = axes
    colors = rcParams["axes.prop_cycle"].by_key()["color"]
    for i, track in enumerate(cues.sources):
        color = colors[i % len(colors)]
        label = f"source {source_number(track.source_id)}"
        if track.top_label is not None:
            label += f" ({track.top_label.noun})"
        t = track.times_s
        on = track.active
        sure = heard_direction(track, cues.layout)
        ax_az.plot(t, np.where(on, track.azimuth_deg, np.nan), color=color, lw=0.8, alpha=0.5)
        ax_az.plot(t, np.where(sure, track.azimuth_deg, np.nan), color=color, lw=2, label=label)
        ax_db.plot(t, np.where(on, track.loudness_db, np.nan), color=color, lw=1.5, label=label)
        if track.pitch_hz is not None:
            ax_f0.plot(t, track.pitch_hz, color=color, lw=1.5, label=label)
    ax_az.set_ylabel("azimuth (deg, + = left)")
    limit = 180 if cues.layout == "foa" else 90
    ax_az.set_ylim(-limit, limit)
    ax_az.axhline(0.0, color="0.7", lw=0.8)
    ax_db.set_ylabel("loudness (dBFS)")
    ax_f0.set_ylabel("tonal pitch (Hz)")
    ax_f0.set_xlabel("time (s)")
    ax_f0.set_xlim(0.0, max(cues.duration_s, 1e-3))
    title = f"{Path(cues.audio_path).name if cues.audio_path else 'cues'} ({cues.layout})"
    if not cues.sources:
        title += " - no sources"
    ax_az.set_title(title)
    for ax in axes:
        ax.grid(alpha=0.3)
    if cues.sources:
        ax_az.legend(loc="upper right", fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return Path(path)

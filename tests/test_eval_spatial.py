"""Spatial agreement on hand-made cues and tracks: which heard times count."""

from __future__ import annotations

import numpy as np

from spa2v.camera import azimuth_to_x
from spa2v.evaluation.spatial import measure_agreement
from spa2v.evaluation.tracking import Track
from spa2v.hearing.cues import Cues, CueTrack, Label

TIMES_S = np.arange(0.0, 4.0, 0.125)


def _source(source_id: int, azimuth_deg: float, noun: str) -> CueTrack:
    times = np.arange(0.0, 4.0, 0.025)
    return CueTrack(
        source_id=source_id,
        times_s=times,
        active=np.ones(times.size, bool),
        loudness_db=np.full(times.size, -20.0),
        azimuth_deg=np.full(times.size, azimuth_deg),
        azimuth_confidence=np.ones(times.size),
        labels=[Label(noun, 0.9, noun)],
    )


def _track(track_id: int, azimuth_deg: float, name: str) -> Track:
    x = float(azimuth_to_x(azimuth_deg))
    boxes = np.tile([x - 0.05, 0.5, x + 0.05, 0.7], (TIMES_S.size, 1))
    return Track(track_id, name, TIMES_S, boxes, np.ones(TIMES_S.size))


def _cues(*sources: CueTrack) -> Cues:
    return Cues(duration_s=4.0, sr=16000, layout="spaced", hop_s=0.025, sources=list(sources))


def test_a_source_heard_far_outside_the_view_is_not_the_mirror_image_of_one_seen() -> None:
    """Sleigh bells heard at the centre and at -82 deg (out of view), two sleigh-bell
    sprites at 0 and +35 deg: limited to -45 deg, the far source read as the mirror
    image of the one at +35 ("mirrored"); nothing seen can answer it, so only the
    centred pair counts, which cannot tell sides apart."""
    cues = _cues(_source(0, 0.0, "bells"), _source(1, -82.0, "bells"))
    tracks = [_track(0, 0.0, "bells#0+2"), _track(1, 35.0, "bells#0+2")]
    result = measure_agreement(cues, tracks, TIMES_S, {"bells": ("bells#0+2",)})
    assert result.verdict == "cannot tell"
    assert [p.source_id for p in result.pairs] == [0]
    # Just outside the view (within the tolerance) it still counts, limited to the edge.
    cues = _cues(_source(0, 0.0, "bells"), _source(1, 52.0, "bells"))
    result = measure_agreement(cues, tracks, TIMES_S, {"bells": ("bells#0+2",)})
    assert result.verdict == "agrees"
    assert sorted(p.source_id for p in result.pairs) == [0, 1]

"""Hearing on real recordings: lossy round trips and dual-mono copies of annotated clips.

The clips are the real development set kept in a ``shared/realdata`` folder beside
the repository (see docs/real-benchmark.md); these tests are skipped where it is
absent. The lossy copies are made with the simulator's codec round trip (PyAV's
MP3 and AAC encoders), the dual-mono copy by averaging the two channels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from spa2v.evaluation.benchmark import hear_and_plan
from spa2v.io.signal import Signal
from spa2v.planning.vsl import VSL

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "audio"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REALDATA.is_dir(), reason="no real recordings beside the repo"),
]


def _real(clip: str) -> Signal:
    samples, sr = sf.read(REALDATA / f"{clip}.flac", dtype="float32", always_2d=True)
    return Signal(samples.T.copy(), sr, "stereo", source=f"{clip}.flac")


def _main_object(vsl: VSL) -> tuple[str, dict[float, float]]:
    """Motion and box centres (x, per keyframe time) of the object in view most often."""
    counts: dict[int, int] = {}
    for frame in vsl.frames:
        for box in frame.boxes:
            counts[box.id] = counts.get(box.id, 0) + 1
    best = max(counts, key=counts.__getitem__)
    xs = {f.t: (b.box[0] + b.box[2]) / 2 for f in vsl.frames for b in f.boxes if b.id == best}
    motion = next(o.motion for o in vsl.objects if o.id == best)
    return motion, xs


@pytest.mark.parametrize("codec", ["mp3", "aac"])
@pytest.mark.parametrize("clip", ["fairplay_example-00001", "LOCATA-task3-clip0"])
def test_a_128_kbps_round_trip_keeps_side_and_motion(clip, codec):
    from spa2v.sim.codec import round_trip

    lossless = _real(clip)
    motion, xs = _main_object(hear_and_plan(lossless)[1])
    decoded, _ = round_trip(lossless.samples, lossless.sr, codec, 128.0)
    coded_motion, coded_xs = _main_object(hear_and_plan(Signal(decoded, lossless.sr, "stereo"))[1])
    assert coded_motion == motion, (clip, codec, motion, coded_motion)
    # Side at every keyframe where the lossless box is clearly off-centre (the walker
    # crosses the middle four times; the piano stays left).
    times = [t for t in xs if abs(xs[t] - 0.5) >= 0.12 and t in coded_xs]
    same = [(coded_xs[t] < 0.5) == (xs[t] < 0.5) for t in times]
    assert len(times) >= 0.3 * len(xs) and np.mean(same) >= 0.9, (clip, codec, np.mean(same))


def test_the_binaural_piano_is_heard_on_the_left_through_a_codec():
    # Lossy coding took this clip's time differences above 1.5 kHz (and its low-band
    # level difference points the wrong way): hearing must say so and use the low band.
    cues, vsl = hear_and_plan(_real("fairplay_example-00001"))
    assert cues.layout == "binaural"
    assert cues.stereo["high_band_flattened"]
    assert any("lossy-coded" in w for w in cues.warnings)
    _, xs = _main_object(vsl)
    assert np.median(list(xs.values())) < 0.4  # the piano stands at x = 0.17 in the picture


def test_a_dual_mono_copy_has_no_left_right_information():
    walker = _real("LOCATA-task3-clip0")  # walks 75 deg back and forth
    mono = walker.samples.mean(axis=0)
    cues, vsl = hear_and_plan(Signal(np.stack([mono, mono]), walker.sr, "stereo"))
    assert not cues.lateral_info
    assert "no left/right information" in vsl.reasoning
    assert all(o.motion not in ("left-to-right", "right-to-left", "other") for o in vsl.objects)
    centres = [(b.box[0] + b.box[2]) / 2 for f in vsl.frames for b in f.boxes]
    assert centres and np.allclose(centres, 0.5, atol=0.01)

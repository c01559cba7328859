"""Judge a video: layout adherence, AV-Align and spatial audio-visual agreement.

:func:`evaluate_video` reads the picture once: optical flow on every frame (AV-Align)
and, every ``1 / detect_fps`` seconds, the objects in view, from the detector
(:mod:`spa2v.evaluation.detector`) or, for spa2v's own animatics, from the sprites the
renderer drew (:mod:`spa2v.evaluation.sprites`); the objects are linked into tracks
(:mod:`spa2v.evaluation.tracking`). With a layout it measures adherence
(:mod:`spa2v.evaluation.adherence`); with a sound track (the video's, or ``audio``) it
measures AV-Align (:mod:`spa2v.evaluation.av_align`) and hears the sound with spa2v's
own hearing to judge the spatial agreement (:mod:`spa2v.evaluation.spatial`). What
cannot be measured is reported as such ("cannot tell", with the reason), never guessed.

Example
-------
>>> result = evaluate_video("street.mp4", layout="street.layout.json")  # doctest: +SKIP
>>> result.spatial.verdict, round(result.adherence.miou, 2)  # doctest: +SKIP
('agrees', 0.93)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spa2v.errors import AudioInputError, LayoutError, Spa2vError
from spa2v.evaluation.adherence import Adherence, measure_adherence, planned_objects
from spa2v.evaluation.av_align import FlowMeter, audio_onsets_s, av_align, video_peaks_s
from spa2v.evaluation.detector import Detection, Detector, require_cv2
from spa2v.evaluation.spatial import (
    SpatialAgreement,
    cannot_tell,
    measure_agreement,
)
from spa2v.evaluation.sprites import SpriteFinder
from spa2v.evaluation.tracking import Track, link_tracks
from spa2v.hearing.cues import Cues
from spa2v.io.atomic import atomic_path, write_text_atomic
from spa2v.io.audio import DEFAULT_MAX_DURATION_S, load_audio, with_layout
from spa2v.io.signal import Signal
from spa2v.io.video import open_video
from spa2v.nouns import detector_class
from spa2v.planning.vsl import VSL, load_vsl

PathLike = str | os.PathLike[str]
#: ``progress(stage, done, total)``: stages "read" (per frame), "hear", "score".
ProgressCallback = Callable[[str, int, int], None]

BOX_SOURCES = ("auto", "detector", "animatic")
#: Objects are looked for this many times per second by default (the flow uses every
#: frame): finding an animatic's sprites is cheap; the detector costs ~0.15 s a frame on
#: one core, so it looks twice a second (tracks need no more for 4-10 s clips).
DEFAULT_DETECT_FPS = {"animatic": 8.0, "detector": 2.0}
REPORT_SCHEMA = "spa2v.eval/1"


@dataclass
class AVAlign:
    """AV-Align and what it was computed from."""

    score: float | None
    reason: str = ""
    audio_onsets_s: list[float] = field(default_factory=list)
    video_peaks_s: list[float] = field(default_factory=list)
    flow: list[float] = field(default_factory=list)  # mean flow magnitude per frame

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "reason": self.reason,
            "n_audio_onsets": len(self.audio_onsets_s),
            "n_video_peaks": len(self.video_peaks_s),
            "audio_onsets_s": [round(t, 3) for t in self.audio_onsets_s],
            "video_peaks_s": [round(t, 3) for t in self.video_peaks_s],
        }


@dataclass
class VideoEvaluation:
    """Everything :func:`evaluate_video` measured on one video."""

    video: str
    width: int
    height: int
    fps: float
    n_frames: int
    boxes_from: str  # "detector" or "animatic"
    times_s: np.ndarray
    tracks: list[Track]
    adherence: Adherence | None
    adherence_reason: str
    av_align: AVAlign
    spatial: SpatialAgreement
    layout: str | None = None
    audio: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "video": self.video,
            "layout": self.layout,
            "audio": self.audio,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "n_frames": self.n_frames,
            "duration_s": round(self.duration_s, 3),
            "boxes_from": self.boxes_from,
            "adherence": self.adherence.to_dict() if self.adherence is not None else None,
            "adherence_reason": self.adherence_reason,
            "av_align": self.av_align.to_dict(),
            "spatial": self.spatial.to_dict(),
            "tracks": [
                {
                    "track_id": t.track_id,
                    "class": t.class_name,
                    "seen_s": round(float(t.seen.sum()) * self._step_s, 2),
                    "mean_score": round(t.mean_score, 3),
                }
                for t in self.tracks
            ],
            "warnings": list(self.warnings),
        }

    @property
    def _step_s(self) -> float:
        return float(self.times_s[1] - self.times_s[0]) if len(self.times_s) > 1 else 0.0

    def figures(self) -> dict[str, float | str | None]:
        """The headline figures (one row of a results table)."""
        adh = self.adherence
        return {
            "coverage": adh.coverage if adh else None,
            "miou": adh.miou if adh else None,
            "centroid_distance": adh.centroid_distance if adh else None,
            "ap50": adh.ap50 if adh else None,
            "ltsim": adh.ltsim if adh else None,
            "av_align": self.av_align.score,
            "spatial_score": self.spatial.score,
            "spatial_verdict": self.spatial.verdict,
        }

    def save(self, path: PathLike) -> Path:
        """Write the report as JSON (atomically)."""
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")


def evaluate_video(
    video_path: PathLike,
    layout: VSL | PathLike | None = None,
    audio_path: PathLike | None = None,
    boxes: str = "auto",
    detect_fps: float | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
    max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
    audio_layout: str | None = None,
    mic_spacing_m: float | None = None,
    yaw_deg: float = 0.0,
) -> VideoEvaluation:
    """Evaluate a video (see the module docstring).

    Parameters
    ----------
    video_path : path
        Any video PyAV reads (mp4, mov, mkv, webm...).
    layout : VSL or path, optional
        The layout the video should follow; adherence is measured only with one.
    audio_path : path, optional
        The sound to judge against (default: the video's own sound track).
    boxes : {"auto", "detector", "animatic"}
        Where the objects come from: the detector, or the sprites of spa2v's animatic of
        ``layout`` (exact; ``auto`` takes it when the video shows the layout's
        animatic background).
    detect_fps : float, optional
        How often per second objects are looked for (default
        :data:`DEFAULT_DETECT_FPS` of the path taken).
    threads : int, optional
        OpenCV threads (1 for single-core measurements).
    progress : callable, optional
        ``progress(stage, done, total)``.
    max_duration_s : float or None
        Refuse longer sound (as every command that reads audio; None: no limit).
    audio_layout : str, optional
        What the sound's channels are ("spaced", "panned", "binaural", ...; as
        ``spa2v run --layout``): hear it as that kind instead of telling it from the
        channels. Give the kind the layout was planned with, so the sound is heard the
        same way twice.
    mic_spacing_m, yaw_deg : float
        How the sound is heard, as for :func:`spa2v.hearing.extract.hear`: the spacing of
        a spaced pair, the view's direction in first-order ambisonics. Give the values
        the layout was planned with.

    Raises
    ------
    VideoInputError, AudioInputError, LayoutError, BackendUnavailableError
        One-line user errors (unreadable video, bad layout, missing OpenCV...).
    """
    if boxes not in BOX_SOURCES:
        raise Spa2vError(f"unknown box source {boxes!r}; choose one of {', '.join(BOX_SOURCES)}")
    cv2 = require_cv2()
    if threads is not None:
        cv2.setNumThreads(int(threads))
    reader = open_video(video_path)
    vsl = _load_layout(layout)
    if vsl is not None:
        _check_duration(vsl, reader.duration_s, reader.path, layout)
    signal, audio_note = _load_sound(
        reader.path, reader.has_audio, audio_path, max_duration_s, audio_layout
    )

    frames = reader.frames()
    first = next(frames)
    finder: SpriteFinder | None = None
    if vsl is not None and boxes != "detector":
        finder = SpriteFinder(vsl, (reader.width, reader.height), cv2)
        finder.detect_overlays(first)
        if boxes == "auto" and not finder.looks_like_animatic(first):
            finder = None
    elif boxes == "animatic":
        raise LayoutError("--boxes animatic needs the layout the video was rendered from")
    detect: Callable[[np.ndarray, float], list[Detection]]
    if finder is not None:
        detect = finder.find
    else:
        detector = Detector(threads=threads)

        def detect(frame: np.ndarray, t: float) -> list[Detection]:
            return detector.detect(frame)

    if detect_fps is None:
        detect_fps = DEFAULT_DETECT_FPS["animatic" if finder is not None else "detector"]
    stride = max(1, round(reader.fps / detect_fps))
    meter = FlowMeter(cv2)
    detections: list[list[Detection]] = []
    times: list[float] = []
    total = reader.n_frames
    count = 0
    for frame in _chain(first, frames):
        meter.add(frame)
        if count % stride == 0:
            detections.append(detect(frame, count / reader.fps))
            times.append(count / reader.fps)
        count += 1
        if progress is not None and (count % 8 == 0 or count == total):
            progress("read", count, max(total, count))
    times_s = np.asarray(times)
    tracks = link_tracks(detections, times_s)

    _report(progress, "score")
    adherence, adherence_reason = None, "no layout given"
    if vsl is not None:
        adherence = _adherence(vsl, finder, times_s, tracks, detections)
        adherence_reason = ""
    alignment = _av_align(signal, audio_note, meter.trajectory, reader.fps)
    if signal is None:
        spatial = cannot_tell(audio_note)
    elif (no_direction := _no_left_right(signal)) is not None:
        spatial = cannot_tell(no_direction)
    else:
        _report(progress, "hear")
        cues = _hear(signal, mic_spacing_m, yaw_deg)
        spatial = measure_agreement(cues, tracks, times_s, _class_of(vsl, finder, cues))
    return VideoEvaluation(
        video=str(reader.path),
        width=reader.width,
        height=reader.height,
        fps=reader.fps,
        n_frames=count,
        boxes_from="animatic" if finder is not None else "detector",
        times_s=times_s,
        tracks=tracks,
        adherence=adherence,
        adherence_reason=adherence_reason,
        av_align=alignment,
        spatial=spatial,
        layout=None if layout is None or isinstance(layout, VSL) else str(layout),
        audio=str(audio_path) if audio_path is not None else None,
        warnings=list(reader.warnings) + (list(signal.warnings) if signal is not None else []),
    )


# -- steps --------------------------------------------------------------------------------


def _load_layout(layout: VSL | PathLike | None) -> VSL | None:
    if layout is None or isinstance(layout, VSL):
        return layout
    return load_vsl(layout)


def _check_duration(vsl: VSL, video_s: float, video: Path, layout: object) -> None:
    """A layout for another clip is a user error, not a low score."""
    if video_s > 0 and abs(vsl.duration - video_s) > max(0.5, 0.1 * video_s):
        name = layout if not isinstance(layout, VSL) else "the layout"
        raise LayoutError(
            f"{name} lasts {vsl.duration:.1f} s but {video} {video_s:.1f} s: "
            "give the layout this video was made from"
        )


def _load_sound(
    video: Path,
    has_audio: bool,
    audio_path: PathLike | None,
    max_duration_s: float | None,
    layout: str | None = None,
) -> tuple[Signal | None, str]:
    """The sound to judge, or None and why not (a video without sound is not an error)."""
    if audio_path is not None:
        return load_audio(audio_path, layout=layout, max_duration_s=max_duration_s), ""
    if not has_audio:
        return None, f"{video} has no sound track"
    try:
        signal = load_audio(video, max_duration_s=max_duration_s)
    except AudioInputError as exc:
        return None, f"its sound track cannot be used: {exc}"
    return with_layout(signal, layout), ""  # a layout that does not fit: the user's error


def _chain(first: np.ndarray, rest: Any) -> Any:
    yield first
    yield from rest


def _adherence(
    vsl: VSL,
    finder: SpriteFinder | None,
    times_s: np.ndarray,
    tracks: list[Track],
    detections: list[list[Detection]],
) -> Adherence:
    names = {obj.id: obj.name for obj in vsl.objects}
    if finder is not None:  # the sprites as the renderer draws them, one class each
        planned = [finder.renderer.drawn_boxes(float(t)) for t in times_s]
        classes: dict[int, str | None] = dict(finder.class_names)
    else:
        planned = [vsl.boxes_at(float(t)) for t in times_s]
        classes = {i: detector_class(name) for i, name in names.items()}
    return measure_adherence(planned_objects(planned, names, classes), tracks, detections)


def _av_align(signal: Signal | None, note: str, flow: np.ndarray, fps: float) -> AVAlign:
    if signal is None:
        return AVAlign(score=None, reason=f"cannot tell: {note}", flow=flow.tolist())
    onsets = audio_onsets_s(signal.samples, signal.sr).tolist()
    peaks = video_peaks_s(flow, fps).tolist()
    score = av_align(onsets, peaks, fps)
    reason = "" if score is not None else "cannot tell: no audio onset and no motion peak"
    return AVAlign(score, reason, onsets, peaks, flow.tolist())


def _no_left_right(signal: Signal) -> str | None:
    """Why ``signal`` carries no left/right information (hearing's own rule for
    dual-mono, :func:`~spa2v.hearing.stereo_kind.analyse_stereo`), or None; checked
    before hearing, which tagging makes the costlier step."""
    from spa2v.hearing.extract import stereo_layout

    if signal.samples.shape[0] < 2:
        return "the sound is mono: it carries no direction"
    _, stereo = stereo_layout(signal.layout, signal.samples, signal.sr)
    if stereo is not None and not stereo.lateral_info:
        return "the sound is dual-mono (left = right): it carries no direction"
    return None


def _hear(signal: Signal, mic_spacing_m: float | None, yaw_deg: float) -> Cues:
    from spa2v.hearing.labelled import hear_labelled

    return hear_labelled(signal, mic_spacing_m=mic_spacing_m, yaw_deg=yaw_deg)


def _class_of(
    vsl: VSL | None, finder: SpriteFinder | None, cues: Cues
) -> dict[str, tuple[str, ...]]:
    """Heard noun -> the track classes that may show it."""
    nouns = {s.top_label.noun for s in cues.sources if s.top_label}
    if finder is not None and vsl is not None:
        return {
            noun: tuple(finder.class_names[o.id] for o in vsl.objects if o.name == noun)
            for noun in nouns
        }
    return {noun: (cls,) for noun in nouns if (cls := detector_class(noun))}


def _report(progress: ProgressCallback | None, stage: str) -> None:
    if progress is not None:
        progress(stage, 0, 0)


# -- the plot -----------------------------------------------------------------------------


def plot_evaluation(result: VideoEvaluation, path: PathLike) -> Path:
    """Heard direction and seen position over time (one line pair per paired source),
    and the flow trajectory with its peaks against the audio onsets; PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    spatial = result.spatial
    for k, pair in enumerate(spatial.pairs):
        colour = f"C{k % 10}"
        top.plot(pair.times_s, pair.heard_deg, "-", color=colour, label=f"heard {pair.heard_noun}")
        top.plot(
            pair.times_s, pair.seen_deg, "o", ms=3, color=colour, label=f"seen {pair.track_class}"
        )
    top.axhline(0.0, color="0.7", lw=0.8)
    top.set_ylim(-50, 50)
    top.set_ylabel("azimuth (deg, + = left)")
    score = "" if spatial.score is None else f", {spatial.score:.0%} of the time agree"
    top.set_title(f"spatial agreement: {spatial.verdict}{score}")
    if spatial.pairs:
        top.legend(loc="upper right", fontsize=8)
    flow = np.asarray(result.av_align.flow)
    if flow.size:
        bottom.plot(np.arange(flow.size) / result.fps, flow, color="0.3", label="mean flow (px)")
    for t in result.av_align.video_peaks_s:
        bottom.axvline(t, color="C1", lw=1.0, alpha=0.8)
    for t in result.av_align.audio_onsets_s:
        bottom.axvline(t, color="C0", lw=1.0, ls="--", alpha=0.8)
    av = result.av_align.score
    bottom.set_title(
        "AV-Align: "
        + (f"{av:.2f}" if av is not None else "cannot tell")
        + " (solid: motion peaks, dashed: audio onsets)"
    )
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("flow")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return Path(path)

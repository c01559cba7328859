"""Options of the diffusion generator and their per-base defaults (no torch needed here).

Every option left at ``None`` takes the default of the chosen base model; see
:data:`BASE_DEFAULTS` and :meth:`DiffusionOptions.resolved`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from spa2v.errors import Spa2vError

Base = Literal["animatediff", "modelscope"]
BASES: tuple[str, ...] = ("animatediff", "modelscope", "auto")
STEERING_MODES: tuple[str, ...] = ("modulate", "energy", "none")
DTYPES: tuple[str, ...] = ("auto", "float16", "bfloat16", "float32")

#: Model ids used when ``--model`` is not given (public Hugging Face Hub repositories).
DEFAULT_MODEL = {
    "animatediff": "emilianJR/epiCRealism",
    "modelscope": "ali-vilab/text-to-video-ms-1.7b",
}
DEFAULT_MOTION_ADAPTER = "guoyww/animatediff-motion-adapter-v1-5-2"
ZEROSCOPE_HINT = "zeroscope"


@dataclass(frozen=True)
class BaseDefaults:
    """Sampling defaults that suit one family of base models."""

    steps: int
    guidance_scale: float
    num_frames: int
    width: int
    height: int
    #: Output frame rate the base was trained for (AnimateDiff: 8 fps clips).
    native_fps: float


BASE_DEFAULTS: dict[str, BaseDefaults] = {
    # AnimateDiff v1.5-2 was trained on 16-frame clips; SD 1.5 bases draw well at 512 px
    # wide, and 512x320 is the VSL's 16:10 reference canvas.
    "animatediff": BaseDefaults(25, 7.5, 16, 512, 320, 8.0),
    # ModelScope t2v 1.7b is trained at 256x256, 16 frames.
    "modelscope": BaseDefaults(40, 9.0, 16, 256, 256, 8.0),
    # Zeroscope v2 576w (a ModelScope fine-tune) at its native 576x320, 24 frames.
    "zeroscope": BaseDefaults(40, 9.0, 24, 576, 320, 8.0),
}

#: Steering defaults per mode: strength and the fraction of denoising steps steered.
#: modulate: logit bias (nats) added inside the box and subtracted outside;
#: energy: LVD's loss scale (LVD uses 2.5-5 and guides the first 10 of 40 steps).
STEERING_DEFAULTS: dict[str, tuple[float, float]] = {
    "modulate": (3.0, 0.4),
    "energy": (2.5, 0.25),
    "none": (0.0, 0.0),
}


@dataclass
class DiffusionOptions:
    """Everything ``generate_diffusion_video`` needs besides the layout and the audio.

    ``None`` means "the default of the base" (see :meth:`resolved`).
    """

    model: str | None = None
    base: str = "auto"
    motion_adapter: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    seed: int = 0
    steps: int | None = None
    guidance_scale: float | None = None
    steering: str = "modulate"
    steering_strength: float | None = None
    steering_steps: int | None = None
    num_frames: int | None = None
    width: int | None = None
    height: int | None = None
    negative_prompt: str = "low quality, blurry, deformed, watermark, text"
    #: Frame rate of the written MP4 (frames are repeated to fill the audio's duration).
    video_fps: float | None = None
    #: (width, height) of the written MP4; None keeps the model's frame size.
    video_size: tuple[int, int] | None = None
    #: Energy guidance: fraction of the box (or background) pixels in the top-k mean,
    #: and the weight of the background term (LVD: 0.25-0.75 and 2-4).
    energy_topk_fraction: float = 0.5
    energy_background_weight: float = 3.0
    show_progress: bool = True

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> DiffusionOptions:
        """Options from an argparse namespace; attributes it lacks keep their defaults.

        Accepts both our own destinations (``steering_strength``) and the namespace of a
        parser with other arguments (ignored, except the host command's ``--fps`` and
        ``--size``, which set the written video's frame rate and size; the model still
        generates at its own size).
        """
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in vars(ns).items() if k in names}
        fps = getattr(ns, "fps", None)
        if values.get("video_fps") is None and isinstance(fps, int | float) and fps > 0:
            values["video_fps"] = float(fps)
        size = getattr(ns, "size", None)
        if values.get("video_size") is None and isinstance(size, tuple) and len(size) == 2:
            values["video_size"] = (int(size[0]), int(size[1]))
        return cls(**values)

    def resolved(self) -> DiffusionOptions:
        """A copy with ``base``, ``model`` and every ``None`` default filled in."""
        base = self.base if self.base != "auto" else guess_base(self.model, self.motion_adapter)
        model = self.model or DEFAULT_MODEL[base]
        family = "zeroscope" if ZEROSCOPE_HINT in model.lower() else base
        defaults = BASE_DEFAULTS[family]
        steps = self.steps or defaults.steps
        strength, fraction = STEERING_DEFAULTS[self.steering]
        steering_steps = self.steering_steps
        if steering_steps is None:
            steering_steps = max(1, round(fraction * steps)) if self.steering != "none" else 0
        return dataclasses.replace(
            self,
            base=base,
            model=model,
            motion_adapter=self.motion_adapter,
            steps=steps,
            guidance_scale=(
                self.guidance_scale if self.guidance_scale is not None else defaults.guidance_scale
            ),
            steering_strength=(
                self.steering_strength if self.steering_strength is not None else strength
            ),
            steering_steps=min(steering_steps, steps),
            num_frames=self.num_frames or defaults.num_frames,
            width=self.width or defaults.width,
            height=self.height or defaults.height,
            video_fps=self.video_fps or defaults.native_fps,
        )

    def validate(self) -> None:
        """Raise Spa2vError on option values no base can use."""
        if self.steering not in STEERING_MODES:
            raise Spa2vError(
                f"unknown steering mode {self.steering!r}; use one of {', '.join(STEERING_MODES)}"
            )
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and (value <= 0 or value % 8):
                raise Spa2vError(
                    f"--{name} {value} must be a positive multiple of 8 (the VAE's scale)"
                )


def guess_base(model: str | None, motion_adapter: str | None = None) -> str:
    """Pick ``animatediff`` or ``modelscope`` for ``--base auto``.

    A motion adapter means AnimateDiff. A local folder says what it is in its
    ``model_index.json``; a hub id is judged by its name (text-to-video / zeroscope /
    modelscope ids are ModelScope-style pipelines, anything else an SD 1.5 base).
    """
    if motion_adapter:
        return "animatediff"
    if model is None:
        return "animatediff"
    index = Path(model).expanduser() / "model_index.json"
    if index.is_file():
        try:
            class_name = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "")
        except (OSError, ValueError):
            class_name = ""
        return "modelscope" if class_name == "TextToVideoSDPipeline" else "animatediff"
    if re.search(r"text-to-video|zeroscope|modelscope|t2v", model, flags=re.IGNORECASE):
        return "modelscope"
    return "animatediff"

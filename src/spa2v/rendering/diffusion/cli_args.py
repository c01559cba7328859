"""Command-line options of the diffusion generator (``spa2v render/run --generator diffusion``).

The render and run commands call :func:`add_diffusion_arguments` on their parser and
pass the parsed namespace to ``generate_diffusion_video``. Nothing here imports torch.
"""

from __future__ import annotations

import argparse

from spa2v.rendering.diffusion.options import (
    BASE_DEFAULTS,
    BASES,
    DEFAULT_MODEL,
    DEFAULT_MOTION_ADAPTER,
    DTYPES,
    STEERING_DEFAULTS,
    STEERING_MODES,
    DiffusionOptions,
)

_AD = BASE_DEFAULTS["animatediff"]
_MS = BASE_DEFAULTS["modelscope"]
_ZS = BASE_DEFAULTS["zeroscope"]


def add_diffusion_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``diffusion`` generator's options, in their own group, to ``parser``.

    Defaults that depend on the base model are ``None`` here and filled in by
    :meth:`DiffusionOptions.resolved`; the help text names them.
    """
    defaults = DiffusionOptions()
    group = parser.add_argument_group(
        "diffusion generator (--generator diffusion; needs pip install 'spa2v[diffusion]')"
    )
    group.add_argument(
        "--model",
        metavar="PATH_OR_HUB_ID",
        default=None,
        help=(
            "diffusers model folder or Hugging Face Hub id: an SD 1.5 base for AnimateDiff "
            f"(default {DEFAULT_MODEL['animatediff']}) or a text-to-video pipeline such as "
            f"{DEFAULT_MODEL['modelscope']} or cerspense/zeroscope_v2_576w"
        ),
    )
    group.add_argument(
        "--base",
        choices=BASES,
        default=defaults.base,
        help="model family; auto reads the folder's model_index.json or the id (default auto)",
    )
    group.add_argument(
        "--motion-adapter",
        metavar="PATH_OR_HUB_ID",
        default=None,
        help=(
            "AnimateDiff motion adapter for an SD 1.5 base "
            f"(default {DEFAULT_MOTION_ADAPTER} unless --model is a full AnimateDiff pipeline)"
        ),
    )
    group.add_argument(
        "--device",
        default=defaults.device,
        help="auto (a CUDA GPU; an error without one), cpu (very slow), cuda or cuda:N",
    )
    group.add_argument(
        "--dtype",
        choices=DTYPES,
        default=defaults.dtype,
        help="weights' precision; auto = float16 on CUDA, float32 on CPU",
    )
    group.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default 0)")
    group.add_argument(
        "--steps",
        type=int,
        default=None,
        help=f"denoising steps (default {_AD.steps} AnimateDiff, {_MS.steps} ModelScope)",
    )
    group.add_argument(
        "--guidance-scale",
        type=float,
        default=None,
        help=(
            "classifier-free guidance scale "
            f"(default {_AD.guidance_scale} AnimateDiff, {_MS.guidance_scale} ModelScope)"
        ),
    )
    group.add_argument(
        "--steering",
        choices=STEERING_MODES,
        default=defaults.steering,
        help=(
            "how the layout steers the model: modulate = bias cross-attention inside the "
            "boxes (no extra cost); energy = LVD-style gradient guidance (slower, one extra "
            "UNet pass with gradients per steered step); none (default modulate)"
        ),
    )
    group.add_argument(
        "--steering-strength",
        type=float,
        default=None,
        help=(
            f"modulate: logit bias (default {STEERING_DEFAULTS['modulate'][0]}); "
            f"energy: loss scale (default {STEERING_DEFAULTS['energy'][0]})"
        ),
    )
    group.add_argument(
        "--steering-steps",
        type=int,
        default=None,
        help=(
            "steer only the first N denoising steps (default "
            f"{round(100 * STEERING_DEFAULTS['modulate'][1])}%% of --steps for modulate, "
            f"{round(100 * STEERING_DEFAULTS['energy'][1])}%% for energy)"
        ),
    )
    group.add_argument(
        "--num-frames",
        type=int,
        default=None,
        help=(
            f"frames the model generates (default {_AD.num_frames} AnimateDiff/ModelScope, "
            f"{_ZS.num_frames} Zeroscope); the video is stretched to the audio's length"
        ),
    )

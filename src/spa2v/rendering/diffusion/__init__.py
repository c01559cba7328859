"""Layout-grounded video diffusion: a text-to-video model steered by the VSL (optional).

Needs the ``diffusion`` extra (``pip install 'spa2v[diffusion]'``: torch, diffusers,
transformers, accelerate). Importing this package works without it; generating raises
:class:`~spa2v.errors.BackendUnavailableError` with the install command.

Entry points used by ``spa2v render/run --generator diffusion``:

- :func:`add_diffusion_arguments` adds the options to an argparse parser;
- :func:`generate_diffusion_video` renders a VSL (+ audio) to an MP4.
"""

from __future__ import annotations

from typing import Any

from spa2v.rendering.diffusion.cli_args import add_diffusion_arguments
from spa2v.rendering.diffusion.options import DiffusionOptions

_PIPELINE = ("generate_diffusion_video", "generate_frames", "load_pipeline", "require_backend")


def __getattr__(name: str) -> Any:  # PEP 562: the pipeline module is imported on first use
    if name in _PIPELINE:
        from spa2v.rendering.diffusion import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DiffusionOptions", "add_diffusion_arguments", *_PIPELINE]

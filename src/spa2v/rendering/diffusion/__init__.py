"""Layout-grounded video diffusion: a text-to-video model steered by the VSL (optional).

Needs the ``diffusion`` extra (``pip install 'spa2v[diffusion]'``: torch, diffusers,
transformers, accelerate). Importing this package works without it; generating raises
:class:`~spa2v.errors.BackendUnavailableError` with the install command.

Entry points used by ``spa2v render/run --generator diffusion``:

- :func:`add_diffusion_arguments` adds the options to an argparse parser;
- :func:`generate_diffusion_video` renders a VSL (+ audio) to an MP4.
"""

from spa2v.rendering.diffusion.cli_args import add_diffusion_arguments
from spa2v.rendering.diffusion.options import DiffusionOptions
from spa2v.rendering.diffusion.pipeline import (
    generate_diffusion_video,
    generate_frames,
    load_pipeline,
    require_backend,
)

__all__ = [
    "DiffusionOptions",
    "add_diffusion_arguments",
    "generate_diffusion_video",
    "generate_frames",
    "load_pipeline",
    "require_backend",
]

"""spa2v: turn a recording into a video whose spatial composition matches what is heard.

The pipeline mirrors the package layout::

    load (spa2v.io) -> hear (spa2v.hearing) -> plan (spa2v.planning)
        -> render (spa2v.rendering) -> score (spa2v.evaluation)

``spa2v.sim`` simulates spatial recordings with ground truth for tests and benchmarks.
The high-level functions live in :mod:`spa2v.api` and are re-exported here lazily so
that ``import spa2v`` stays fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("hear", "plan", "render", "run")


def __getattr__(name: str) -> Any:  # PEP 562: lazy re-export of the public API
    if name in _API:
        from spa2v import api

        return getattr(api, name)
    raise AttributeError(f"module 'spa2v' has no attribute {name!r}")


__all__ = ["__version__", *_API]

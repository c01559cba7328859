"""The one cache folder of spa2v: extracted model files, rendered simulator sources.

``$SPA2V_CACHE_DIR`` when set, else the platform's user cache folder for spa2v
(:func:`platformdirs.user_cache_path`: ``$XDG_CACHE_HOME/spa2v`` or ``~/.cache/spa2v``
on Linux, ``~/Library/Caches/spa2v`` on macOS, ``%LOCALAPPDATA%\\spa2v\\Cache`` on
Windows). The older name ``SPA2V_CACHE`` is still read when ``SPA2V_CACHE_DIR`` is not
set. Everything in it can be deleted at any time: it is remade on use.

Example
-------
>>> cache_dir("sim").name
'sim'
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path

#: The environment variable that moves the cache folder.
ENV_CACHE_DIR = "SPA2V_CACHE_DIR"
#: Its older name, still read when the new one is not set.
_ENV_CACHE_DIR_OLD = "SPA2V_CACHE"


def cache_root() -> Path:
    """The cache folder (not created here)."""
    chosen = os.environ.get(ENV_CACHE_DIR) or os.environ.get(_ENV_CACHE_DIR_OLD)
    return Path(chosen) if chosen else user_cache_path("spa2v", appauthor=False)


def cache_dir(*parts: str) -> Path:
    """A folder inside the cache (``cache_dir("sim")``), not created here."""
    return cache_root().joinpath(*parts)

"""Bounds on a layout's keyframes, in a module of their own so that the CLI's parser
(which checks ``--keyframe-fps`` and ``--frames`` against them) imports no numpy."""

from __future__ import annotations

#: Keyframes per second and keyframes per layout at most: the longest input at the
#: highest rate fits (600 s x 60 = 36,001); a file claiming more is refused, not planned.
MAX_KEYFRAME_FPS = 60.0
MAX_KEYFRAMES = 100_000

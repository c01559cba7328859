"""Known failures of hearing on the simulator's independent recordings, as strict
xfail parameters: each one fails the suite the day it starts passing, so the mark is
removed as soon as the code gets it right."""

from __future__ import annotations

from typing import Any

import pytest


def known_failure(value: str, reason: str) -> Any:
    """A ``parametrize`` value expected to fail, for ``reason`` (a strict xfail)."""
    return pytest.param(value, marks=pytest.mark.xfail(strict=True, reason=reason))

"""Helpers shared by the sub-commands: argument types."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def number(
    kind: type[int] | type[float] = float,
    low: float | None = None,
    high: float | None = None,
    *,
    above_low: bool = False,
    unit: str = "",
) -> Callable[[str], int | float]:
    """An argparse ``type=`` that parses a finite number within ``[low, high]``
    (``(low, high]`` with ``above_low``), with a message that says what is expected.

    >>> number(int, 1, 3)("2")
    2
    >>> number(float, 0, above_low=True)("0.5")
    0.5
    """

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        too_low = low is not None and (value <= low if above_low else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            raise argparse.ArgumentTypeError(
                f"{text}{unit} is {_range_text(low, high, above_low)}{unit}"
            )
        return value

    return parse


def _range_text(low: float | None, high: float | None, above_low: bool) -> str:
    if low is not None and high is not None:
        return f"outside {low:g}-{high:g}"
    if low is not None:
        return f"not above {low:g}" if above_low else f"below {low:g}"
    return f"above {high:g}"

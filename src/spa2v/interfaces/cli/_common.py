"""Helpers shared by the sub-commands: argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from spa2v.ranges import parse_number


def number(
    kind: type[int] | type[float] = float,
    low: float | None = None,
    high: float | None = None,
    *,
    above_low: bool = False,
    unit: str = "",
) -> Callable[[str], int | float]:
    """An argparse ``type=`` that parses a finite number within ``[low, high]``
    (``(low, high]`` with ``above_low``), with a message that says what is expected
    (:func:`spa2v.ranges.parse_number`).

    >>> number(int, 1, 3)("2")
    2
    >>> number(float, 0, above_low=True)("0.5")
    0.5
    """

    def parse(text: str) -> int | float:
        try:
            return parse_number(text, kind, low, high, above_low=above_low, unit=unit)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse

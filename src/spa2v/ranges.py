"""Numbers an option takes, and the ranges of the options that are given both on the
command line and in a batch manifest, so that both refuse the same values in the same
words.
"""

from __future__ import annotations

import math
from typing import Any

#: ``--hop-ms`` / manifest ``hop_ms``: the hearing frame hop, in milliseconds.
HOP_MS_RANGE = (5.0, 500.0)
#: ``--max-sources`` / manifest ``max_sources``: how many sources hearing separates.
MAX_SOURCES_RANGE = (1, 3)


def parse_number(
    value: Any,
    kind: type[int] | type[float] = float,
    low: float | None = None,
    high: float | None = None,
    *,
    above_low: bool = False,
    unit: str = "",
) -> int | float:
    """``value`` as a finite ``kind`` within ``[low, high]`` (``(low, high]`` with
    ``above_low``); a ValueError that says what is expected otherwise.

    Text and numbers are taken (a manifest's JSON gives numbers); ``True`` or ``2.5``
    is no whole number.

    >>> parse_number("2", int, 1, 3)
    2
    >>> parse_number(0.5, float, 0, above_low=True)
    0.5
    >>> parse_number("600", float, 5, 500, unit=" ms")
    Traceback (most recent call last):
    ...
    ValueError: '600' is outside 5-500 ms
    """
    if isinstance(value, bool) or not isinstance(value, int if kind is int else (int, float)):
        value = str(value).strip()
    try:
        number = kind(value)
    except (TypeError, ValueError):
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{value!r} is not {what}") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    too_low = low is not None and (number <= low if above_low else number < low)
    too_high = high is not None and number > high
    if too_low or too_high:
        raise ValueError(f"{value!r} is {_range_text(low, high, above_low)}{unit}")
    return number


def _range_text(low: float | None, high: float | None, above_low: bool) -> str:
    if low is not None and high is not None:
        return f"outside {low:g}-{high:g}"
    if low is not None:
        return f"not above {low:g}" if above_low else f"below {low:g}"
    return f"above {high:g}"

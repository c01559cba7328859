"""The csv module's cell size limit, set for one read at a time.

``csv.field_size_limit`` is one value for the whole process. The batch reads a manifest
with a limit (a row with a huge cell fails alone, see
:func:`spa2v.batch.inputs.read_manifest`) and its own results table with none (a failed
row keeps the user's cell as it was). Each read sets the limit it needs under one lock,
so a read in another thread (the web app's, a library user's) never sees the other's
limit, and a limit some other library set does not decide what a manifest accepts.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The csv module's own default: a manifest cell longer than this fails its row.
MANIFEST_MAX_CELL = 131_072
#: Largest cell the results table reads back (a C long on every platform).
RESULTS_MAX_CELL = 2**31 - 1

_LIMIT = threading.Lock()


@contextmanager
def cell_limit(max_chars: int) -> Iterator[None]:
    """Read CSV with cells of at most ``max_chars`` characters inside the block.

    >>> with cell_limit(10):
    ...     csv.field_size_limit()
    10
    """
    with _LIMIT:
        previous = csv.field_size_limit(max_chars)
        try:
            yield
        finally:
            csv.field_size_limit(previous)

"""Write outputs atomically so that a failure never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from spa2v.errors import OutputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success.

    The temporary file keeps ``target``'s suffix so that libraries which pick a format
    from the extension (PyAV, Pillow, matplotlib) still do. On any exception the
    temporary file is removed and ``target`` is left as it was.

    Example
    -------
    >>> with atomic_path("layout.json") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"cannot write {target}: folder {directory} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=f".part{target.suffix}", dir=directory
        )
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file private (0600); give the result the usual permissions.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_output_path(path: Path | None, suffixes: Iterable[str], name: str = "-o") -> None:
    """Refuse an output path that cannot be written, before any slow work is done.

    ``name`` introduces the path in the message (the command-line flag, or what the
    file is). Checks the suffix, that the path is not a folder, and that its folder
    exists and is writable.
    """
    if path is None:
        return
    path = Path(path)
    suffixes = sorted(suffixes)
    if path.suffix.lower() not in suffixes:
        raise OutputError(f"{name} {path}: use a file name ending in {', '.join(suffixes)}")
    if path.is_dir():
        raise OutputError(f"{name} {path} is a folder: give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{name} {path}: folder {folder} does not exist, create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{name} {path}: folder {folder} is not writable")


def write_text_atomic(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)

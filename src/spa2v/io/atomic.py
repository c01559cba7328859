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
    temporary file is removed and ``target`` is left as it was; so it is when the block
    removes the temporary file itself (it chose to write nothing). Missing folders are
    made, and removed again when nothing is written.

    Example
    -------
    >>> with atomic_path("layout.json") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    created = _make_folders(directory, target)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=f".part{target.suffix}", dir=directory
        )
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file private (0600); give the result the usual permissions.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        if tmp.exists():
            os.replace(tmp, target)
        else:  # the block removed it: it chose to write nothing
            _remove_empty(created)
    except BaseException:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise


@contextlib.contextmanager
def atomic_paths(targets: Iterable[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """:func:`atomic_path` for several files that appear together or not at all.

    Yields one temporary path per target, in order; all are renamed over their targets
    when the block succeeds, and all are removed (with any folder made for them) when it
    fails or is interrupted.

    Example
    -------
    >>> with atomic_paths(["a.json", "a.png"]) as (json_tmp, png_tmp):  # doctest: +SKIP
    ...     json_tmp.write_text("{}")
    ...     png_tmp.write_bytes(b"...")
    """
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(target)) for target in targets]


def _make_folders(directory: Path, target: Path) -> list[Path]:
    """Create ``directory`` and missing parents; return those created, deepest first."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(missing)
        raise OutputError(
            f"cannot write {target}: cannot create folder {directory} ({exc.strerror or exc})"
        ) from None
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders an output needed, deepest first, if nothing else is in them."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def check_output_path(path: Path | None, suffixes: Iterable[str], name: str = "-o") -> None:
    """Refuse an output path that cannot be written, before any slow work is done.

    ``name`` introduces the path in the message (the command-line flag, or what the
    file is). Checks the suffix, that the path is not a folder, and that its folder
    exists and is writable, or can be created (missing folders are made when the file is
    written, and removed again if the writing fails).
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
    existing = next(d for d in (folder, *folder.parents, Path(".")) if d.exists())
    if not existing.is_dir():
        raise OutputError(f"{name} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{name} {path}: folder {existing} is not writable")


def write_text_atomic(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)

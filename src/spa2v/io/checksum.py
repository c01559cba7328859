"""Files shipped inside the package, verified by their pinned sha256 before use."""

from __future__ import annotations

import hashlib
from pathlib import Path

from spa2v.errors import BackendUnavailableError


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(path: Path, expected_sha256: str, what: str) -> Path:
    """``path`` if it exists and its sha256 is ``expected_sha256``.

    Raises
    ------
    BackendUnavailableError
        One line naming ``what`` and the file: missing, or corrupt (with both checksums).
    """
    if not path.is_file():
        raise BackendUnavailableError(
            f"{what} {path} is missing; reinstall spa2v (pip install --force-reinstall spa2v)"
        )
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise BackendUnavailableError(
            f"{what} {path} is corrupt (sha256 {actual[:12]}..., expected "
            f"{expected_sha256[:12]}...); reinstall spa2v"
        )
    return path

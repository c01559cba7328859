"""The repository's docs and comments stand on their own: they send no reader to files
outside the repository or to issue numbers of a tracker the reader cannot see."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Text files a reader of the repository reads: docs, code (comments, docstrings, help).
FILES = sorted(
    [
        *ROOT.glob("*.md"),
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("src/**/*.py"),
        *ROOT.glob("src/**/*.md"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("benchmarks/**/*.py"),
        *ROOT.glob("scripts/**/*.sh"),
        *ROOT.glob(".ci/*"),
        ROOT / "pyproject.toml",
    ]
)
OUTSIDE = re.compile(
    r"\.\./shared|shared/DESIGN|/work/(main|wt-)"  # the development machine's folders
    r"|\b[Ii]ssues? #?\d+|\bin #\d+\b"  # issue numbers
)


def test_no_reference_outside_the_repository_or_to_issue_numbers() -> None:
    hits = []
    for path in FILES:
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert hits == []


def test_the_pattern_finds_what_it_should() -> None:
    for text in ("see ../shared/DESIGN.md", "(issue 4)", "Issue #12's target", "/work/main"):
        assert OUTSIDE.search(text), text
    for text in ("docs/design.md", "Technical Report #280", "tissue 4"):
        assert not OUTSIDE.search(text), text

"""The examples in the package's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import spa2v


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(spa2v.__path__, prefix="spa2v."):
        if info.name.endswith("__main__"):  # runs the command line when imported
            continue
        tests = doctest.DocTestFinder().find(importlib.import_module(info.name))
        runnable = [
            ex for test in tests for ex in test.examples if not ex.options.get(doctest.SKIP)
        ]
        if runnable:
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"

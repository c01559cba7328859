"""A few hundred cases of the fuzzing campaign (``benchmarks/fuzz_inputs.py``) at every
commit: each input works or fails clearly (no traceback, documented exit codes, no
partial or orphaned output, bounded memory). The full campaign runs on demand; its
figures are in docs/robustness.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import fuzz_inputs

#: Cases at every commit: one to two minutes on two cores (more when they are busy).
CI_CASES = 300
CI_CLI_EVERY = 20


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CI campaign, run in a process of its own: its peak memory is the campaign's,
    not that of a test session which has loaded torch, Ray and a browser before."""
    path = tmp_path_factory.mktemp("fuzz") / "report.json"
    script = Path(fuzz_inputs.__file__)
    args = ["--cases", str(CI_CASES), "--seed", "2026", "--cli-every", str(CI_CLI_EVERY)]
    done = subprocess.run(
        [sys.executable, str(script), *args, "--report", str(path)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert path.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def campaign(report: dict[str, Any]) -> list[fuzz_inputs.Outcome]:
    return [fuzz_inputs.Outcome(**case) for case in report["cases"]]


def test_every_input_works_or_fails_clearly(campaign: list[fuzz_inputs.Outcome]) -> None:
    failures = [f"{o.index} {o.family}/{o.via} {o.what}: {o.result}" for o in campaign if o.failed]
    assert not failures, "\n".join(failures)


def test_the_campaign_covers_every_family_the_cli_and_both_outcomes(
    campaign: list[fuzz_inputs.Outcome],
) -> None:
    assert {o.family for o in campaign} == set(fuzz_inputs.CASES)
    assert sum(o.via == "cli" for o in campaign) == CI_CASES // CI_CLI_EVERY
    ok = sum(o.result == "ok" for o in campaign)
    errors = sum(o.result.startswith("error") for o in campaign)
    assert ok >= 10 and errors >= 50, (ok, errors)  # both paths are exercised


def test_peak_memory_stays_under_the_bound(report: dict[str, Any]) -> None:
    summary = report["summary"]
    assert summary["memory_bound_mb"] == fuzz_inputs.DEFAULT_MEMORY_BOUND_MB
    assert summary["memory_ok"], summary

"""A few hundred cases of the fuzzing campaign (``benchmarks/fuzz_inputs.py``) at every
commit: each input works or fails clearly (no traceback, documented exit codes, no
partial or orphaned output, bounded memory). The full campaign runs on demand; its
figures are in docs/robustness.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import fuzz_inputs

#: Cases at every commit: one to two minutes on two cores (more when they are busy).
CI_CASES = 300
CI_CLI_EVERY = 20


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> list[fuzz_inputs.Outcome]:
    root = tmp_path_factory.mktemp("fuzz")
    return fuzz_inputs.run_campaign(CI_CASES, seed=2026, cli_every=CI_CLI_EVERY, root=root)


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


def test_peak_memory_stays_under_the_bound(campaign: list[fuzz_inputs.Outcome]) -> None:
    summary = fuzz_inputs.summarise(campaign, fuzz_inputs.DEFAULT_MEMORY_BOUND_MB)
    assert summary["memory_ok"], summary

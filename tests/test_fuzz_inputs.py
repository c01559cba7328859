"""The fuzzing campaign (``benchmarks/fuzz_inputs.py``) at every commit: each input works
or fails clearly (no traceback, documented exit codes, no partial or orphaned output,
bounded memory). A few hundred cases of the recording, layout, cue, LLM, manifest and
run families, and a few of the ``eval`` and ``batch`` families, each in a run of its own.
The full campaign runs on demand; its figures are in docs/robustness.md."""

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
CI_FAMILIES = ("audio", "layout", "cues", "llm", "manifest", "run")
#: The eval and batch cases: videos judged in this process and by ``spa2v eval``, and
#: ``spa2v batch`` runs (a command each, with tiny clips); well under a minute.
EVAL_BATCH_CASES = 12
EVAL_BATCH_CLI_EVERY = 3
EVAL_BATCH_FAMILIES = ("eval", "batch")


def _run(tmp_path_factory: pytest.TempPathFactory, args: list[str]) -> dict[str, Any]:
    """A campaign run in a process of its own: its peak memory is the campaign's, not
    that of a test session which has loaded torch, Ray and a browser before."""
    path = tmp_path_factory.mktemp("fuzz") / "report.json"
    script = Path(fuzz_inputs.__file__)
    done = subprocess.run(
        [sys.executable, str(script), *args, "--seed", "2026", "--report", str(path)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert path.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = ["--cases", str(CI_CASES), "--cli-every", str(CI_CLI_EVERY)]
    return _run(tmp_path_factory, [*args, "--families", ",".join(CI_FAMILIES)])


@pytest.fixture(scope="module")
def eval_batch_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    args = ["--cases", str(EVAL_BATCH_CASES), "--cli-every", str(EVAL_BATCH_CLI_EVERY)]
    return _run(tmp_path_factory, [*args, "--families", ",".join(EVAL_BATCH_FAMILIES)])


def _outcomes(report: dict[str, Any]) -> list[fuzz_inputs.Outcome]:
    return [fuzz_inputs.Outcome(**case) for case in report["cases"]]


@pytest.fixture(scope="module")
def campaign(report: dict[str, Any]) -> list[fuzz_inputs.Outcome]:
    return _outcomes(report)


@pytest.fixture(scope="module")
def eval_batch_campaign(eval_batch_report: dict[str, Any]) -> list[fuzz_inputs.Outcome]:
    return _outcomes(eval_batch_report)


def _failures(campaign: list[fuzz_inputs.Outcome]) -> str:
    return "\n".join(
        f"{o.index} {o.family}/{o.via} {o.what}: {o.result}" for o in campaign if o.failed
    )


def test_every_input_works_or_fails_clearly(campaign: list[fuzz_inputs.Outcome]) -> None:
    failures = _failures(campaign)
    assert not failures, failures


def test_the_campaign_covers_every_family_the_cli_and_both_outcomes(
    campaign: list[fuzz_inputs.Outcome],
) -> None:
    assert {o.family for o in campaign} == set(CI_FAMILIES)
    assert sum(o.via == "cli" for o in campaign) == CI_CASES // CI_CLI_EVERY
    ok = sum(o.result == "ok" for o in campaign)
    errors = sum(o.result.startswith("error") for o in campaign)
    assert ok >= 10 and errors >= 50, (ok, errors)  # both paths are exercised


def test_every_video_and_batch_works_or_fails_clearly(
    eval_batch_campaign: list[fuzz_inputs.Outcome],
) -> None:
    failures = _failures(eval_batch_campaign)
    assert not failures, failures


def test_the_eval_and_batch_cases_cover_both_commands_and_outcomes(
    eval_batch_campaign: list[fuzz_inputs.Outcome],
) -> None:
    assert {o.family for o in eval_batch_campaign} == set(EVAL_BATCH_FAMILIES)
    assert {o.via for o in eval_batch_campaign if o.family == "eval"} == {"api", "cli"}
    assert all(o.via == "cli" for o in eval_batch_campaign if o.family == "batch")
    ok = sum(o.result == "ok" for o in eval_batch_campaign)
    errors = sum(o.result.startswith("error") for o in eval_batch_campaign)
    assert ok >= 1 and errors >= 1, (ok, errors)


@pytest.mark.parametrize("which", ["report", "eval_batch_report"])
def test_peak_memory_stays_under_the_bound(which: str, request: pytest.FixtureRequest) -> None:
    summary = request.getfixturevalue(which)["summary"]
    assert summary["memory_bound_mb"] == fuzz_inputs.DEFAULT_MEMORY_BOUND_MB
    assert summary["memory_ok"], summary

"""``spa2v batch``: inputs, the local and Ray engines on the same simulated clips, the
results table, resuming after a kill, and the user errors."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import soundfile as sf

from spa2v.api import RunOptions
from spa2v.batch.inputs import collect_inputs, parse_overrides, read_manifest
from spa2v.batch.results import COLUMNS, CSV_NAME, PARQUET_NAME, csv_text, read_results_csv
from spa2v.batch.runner import BATCH_FILE, failed_exit_code, run_batch
from spa2v.errors import OutputError, Spa2vError
from spa2v.interfaces.cli import main
from spa2v.sim.scene import simulate_pass, simulate_static

#: Small videos: the tests check the batch, not the renderer.
FAST = RunOptions(size=(128, 80), fps=8.0, cue_plot=False)
FAST_FLAGS = ["--size", "128x80", "--fps", "8"]
#: Columns that must match between engines (timings differ; paths are relative).
SAME_COLUMNS = [c for c in COLUMNS if not c.endswith("_s") or c == "duration_s"]


def _simulate(folder: Path, n: int) -> list[tuple[Path, str]]:
    """``n`` short simulated recordings and the motion of each: vehicles passing one way
    or the other, and still sources, in three formats."""
    made = []
    formats = ("binaural", "spaced", "foa")
    for k in range(n):
        fmt = formats[k % 3]
        if k % 4 == 3:
            result = simulate_static(
                (-40.0, 40.0)[k % 2], distance_m=3.0, format=fmt, duration_s=2.0, sr=22050, seed=k
            )
            motion = "static"
        else:
            direction = ("left-to-right", "right-to-left")[k % 2]
            result = simulate_pass(
                direction, speed_mps=10.0, closest_m=8.0, format=fmt, duration_s=2.0,
                sr=22050, seed=k,
            )  # fmt: skip
            motion = direction
        path = folder / f"clip{k:02d}.wav"
        sf.write(path, result.signal.samples.T, result.signal.sr)
        made.append((path, motion))
    return made


@pytest.fixture(scope="module")
def twenty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest of 20 rows: 17 simulated clips and 3 bad ones (an unreadable file, a
    missing file, a row with an unknown option)."""
    folder = tmp_path_factory.mktemp("twenty")
    clips = _simulate(folder, 17)
    (folder / "corrupt.wav").write_bytes(b"RIFF not really a wave file")
    rows = [{"input": path.name, "id": path.stem} for path, _ in clips]
    rows[1]["max_sources"] = 1  # a per-clip option
    rows.insert(5, {"input": "corrupt.wav", "id": "corrupt"})
    rows.insert(9, {"input": "missing.wav", "id": "missing"})
    rows.insert(13, {"input": clips[0][0].name, "id": "odd-option", "colour": "red"})
    manifest = folder / "clips.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return manifest


@pytest.fixture(scope="module")
def local_run(twenty: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("local") / "out"
    return run_batch([str(twenty)], out, FAST, engine="local", workers=2)


def _bad_errors(rows: list[dict]) -> dict[str, str]:
    return {row["clip_id"]: row["error"] for row in rows if row["status"] != "ok"}


def test_local_batch_has_a_row_per_input_and_fails_only_the_bad_rows(local_run, twenty):
    rows = local_run.rows
    assert [r["clip_id"] for r in rows] == [
        json.loads(line)["id"] for line in twenty.read_text().splitlines()
    ]
    errors = _bad_errors(rows)
    assert sorted(errors) == ["corrupt", "missing", "odd-option"]
    assert "corrupt.wav is truncated or corrupt" in errors["corrupt"]
    assert "missing.wav: file not found" in errors["missing"]
    assert "unknown option 'colour'" in errors["odd-option"]
    assert local_run.exit_code == failed_exit_code(3) == 13
    for row in rows:
        if row["status"] == "ok":
            folder = local_run.out_dir / row["clip_id"]
            for column in ("video_path", "cues_path", "layout_path", "storyboard_path"):
                assert (local_run.out_dir / row[column]).is_file(), column
            assert row["duration_s"] == pytest.approx(2.0, abs=0.01)
            assert row["total_s"] > 0 and row["hear_s"] > 0 and row["render_s"] > 0
            assert json.loads((folder / "result.json").read_text())["clip_id"] == row["clip_id"]
    # the per-clip option reached its clip: one source at most
    assert len(next(r for r in rows if r["clip_id"] == "clip01")["labels"]) == 1


def test_local_batch_hears_what_was_simulated(local_run):
    """The batch does the real work: the planned motion is the simulated one for most
    clips, and the four-channel clips are heard as ambisonics."""
    rows = {r["clip_id"]: r for r in local_run.rows}
    right = 0
    for k in range(17):
        row = rows[f"clip{k:02d}"]
        expected = "static" if k % 4 == 3 else ("left-to-right", "right-to-left")[k % 2]
        right += row["motion"][:1] == [expected]
        if k % 3 == 2:
            assert row["stereo_kind"] == "foa"
        else:
            assert row["stereo_kind"] in {"binaural", "spaced", "panned"}
    assert right >= 15


def test_results_table_csv_and_parquet_agree(local_run):
    csv_rows = read_results_csv(local_run.tables["csv"])
    table = pq.read_table(local_run.tables["parquet"]).to_pylist()
    assert len(csv_rows) == len(table) == 20
    assert list(csv_rows[0]) == list(COLUMNS) == list(table[0])
    for text_row, row in zip(csv_rows, table, strict=True):
        assert text_row["clip_id"] == row["clip_id"] and text_row["status"] == row["status"]
        assert text_row["labels"] == "; ".join(row["labels"])


def test_batch_matches_spa2v_run_for_a_clip(local_run, twenty, tmp_path):
    from spa2v.api import run_options

    row = next(r for r in local_run.rows if r["clip_id"] == "clip04")
    result = run_options(str(twenty.parent / "clip04.wav"), tmp_path / "clip04.mp4", FAST)
    assert row["labels"] == [t.top_label.audio_label for t in result.cues.sources]
    assert row["motion"] == [obj.motion for obj in result.vsl.objects]
    batch_layout = json.loads((local_run.out_dir / row["layout_path"]).read_text())
    assert batch_layout == json.loads(result.layout_json.read_text())


@pytest.mark.slow
def test_ray_engine_gives_the_same_rows(local_run, twenty, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ray_run = run_batch([str(twenty)], tmp_path / "out", FAST, engine="ray")
    finally:
        ray.shutdown()
    assert ray_run.engine == "ray"
    same = [{c: r[c] for c in SAME_COLUMNS} for r in ray_run.rows]
    assert same == [{c: r[c] for c in SAME_COLUMNS} for r in local_run.rows]
    assert pq.read_table(ray_run.tables["parquet"]).num_rows == 20


def test_out_dir_of_another_batch_is_refused(local_run, twenty):
    with pytest.raises(OutputError, match=r"another batch.*--resume"):
        run_batch([str(twenty)], local_run.out_dir, FAST)
    other = RunOptions(size=(64, 40), fps=8.0, cue_plot=False)
    with pytest.raises(OutputError, match=r"other options \(size\)"):
        run_batch([str(twenty)], local_run.out_dir, other, resume=True)


def test_resume_skips_finished_clips(local_run, twenty):
    before = {
        r["clip_id"]: (local_run.out_dir / r["clip_id"] / "result.json").stat().st_mtime_ns
        for r in local_run.rows
    }
    again = run_batch([str(twenty)], local_run.out_dir, FAST, resume=True, workers=2)
    assert again.skipped == 17 and len(again.rows) == 20
    after = {
        r["clip_id"]: (local_run.out_dir / r["clip_id"] / "result.json").stat().st_mtime_ns
        for r in again.rows
    }
    redone = sorted(k for k in before if before[k] != after[k])
    assert redone == ["corrupt", "missing", "odd-option"]  # failed clips are tried again


def _batch_command(inputs: Path, out: Path, *extra: str) -> list[str]:
    code = "import sys; from spa2v.interfaces.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, "batch", str(inputs), "-o", str(out), *FAST_FLAGS, *extra]


def _finished(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/result.json")}


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_killed_batch_resumes_with_every_clip_done_once(tmp_path, how):
    clips = _simulate(tmp_path, 6)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        _batch_command(tmp_path, out, "--workers", "1"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job
    )
    deadline = time.monotonic() + 240
    while len(_finished(out)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the batch ended before it could be killed"
    if how == "SIGTERM":
        process.send_signal(signal.SIGTERM)  # a scheduler stopping the job
    else:
        os.killpg(process.pid, signal.SIGKILL)  # a crash: no chance to clean up
    _, err = process.communicate(timeout=60)
    if how == "SIGTERM":
        assert process.returncode == 143
        assert b"--resume" in err
    killed_with = _finished(out)
    assert 2 <= len(killed_with) < 6
    assert not (out / "results.csv").exists()

    resumed = subprocess.run(
        _batch_command(tmp_path, out, "--workers", "1", "--resume"),
        env=env, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr.decode()
    finished = _finished(out)
    assert sorted(finished) == sorted(p.stem for p, _ in clips) or len(finished) == 6
    for clip_id, mtime in killed_with.items():
        assert finished[clip_id] == mtime, f"{clip_id} was done twice"
    rows = read_results_csv(out / "results.csv")
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows)
    assert len({r["clip_id"] for r in rows}) == 6
    assert not list(out.glob(".*.part-*")), "left-over work folders"
    assert f"{len(killed_with)} already done".encode() in resumed.stdout


def _die_on_three(item: int) -> int:
    """A stage whose worker dies, as a crash in a native library would kill it."""
    if item == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)  # let the other items be in flight when the worker dies
    return 10 * item


@pytest.mark.parametrize(("engine_name", "workers"), [("local", 2), ("local", 1), ("ray", 2)])
def test_a_worker_that_dies_fails_only_its_own_item(engine_name, workers, monkeypatch):
    """With a crash handler even one local worker is a process of its own, whose death
    fails only the item it held."""
    from spa2v.batch.engine import RAY_DEATH, Stage, make_engine

    if engine_name == "ray":
        pytest.importorskip("ray")
        # The local Ray instance's workers import this module to run its stage.
        here = str(Path(__file__).parent)
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    stage = Stage("die", _die_on_three)
    with make_engine(engine_name, workers=workers) as engine:
        got = dict(engine.run(list(range(10)), [stage], on_crash=lambda i, why: why))
        assert got.pop(3) == (
            "killed by SIGKILL, which is often the out-of-memory killer"
            if engine_name == "local"
            else RAY_DEATH
        )
        assert got == {k: 10 * k for k in range(10) if k != 3}
        if workers == 1:  # no handler: the item runs in this process, which it would kill
            return
        with pytest.raises(Spa2vError, match="died"):  # no handler: the run stops
            list(engine.run(list(range(10)), [stage]))


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_batch_goes_on_when_a_worker_is_killed(tmp_path):
    """The out-of-memory killer takes one worker mid-batch: the clips it held run again
    and every clip is done, once, with no left-over work folder."""
    clips = _simulate(tmp_path, 6)
    out = tmp_path / "out"
    process = subprocess.Popen(
        _batch_command(tmp_path, out, "--workers", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    while not list(out.glob(".*.part-*")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    workers = [pid for pid in _children(process.pid) if b"spawn_main" in
               Path(f"/proc/{pid}/cmdline").read_bytes()]  # fmt: skip
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    rows = read_results_csv(out / "results.csv")
    assert sorted(Path(r["input"]).stem for r in rows) == sorted(p.stem for p, _ in clips)
    assert all(r["status"] == "ok" for r in rows), [r["error"] for r in rows]
    assert not list(out.glob(".*.part-*")), "left-over work folders"


def test_local_workers_get_their_share_of_the_cpus_as_blas_threads(monkeypatch):
    """Two workers on this machine each get half of its CPUs for BLAS/OpenMP threads
    (not one thread per CPU each); a value the user set is kept."""
    from spa2v.batch.engine import THREAD_VARIABLES, Stage, available_cpus, make_engine

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    names = list(THREAD_VARIABLES) * 2
    with make_engine("local", workers=2) as engine:
        got = dict(engine.run(names, [Stage("getenv", os.getenv)]))  # in the workers
    share = str(max(1, available_cpus() // 2))
    assert [got[i] for i in range(len(names))] == [share, share, "3"] * 2


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_closing_a_local_ray_engine_stops_every_process_of_its_instance():
    """The engine kills the autoscaler monitor itself before Ray's shutdown (which would
    give it a second's grace): the monitor and every other process the local instance
    started are gone, and reaped, once the engine is closed."""
    pytest.importorskip("ray")
    from spa2v.batch.engine import make_engine

    before = set(_children(os.getpid()))
    engine = make_engine("ray", workers=1)
    started = {
        pid: Path(f"/proc/{pid}/cmdline").read_bytes()
        for pid in set(_children(os.getpid())) - before
    }
    assert any(b"monitor.py" in cmdline for cmdline in started.values()), started
    engine.close()
    left = [started[pid] for pid in started if Path(f"/proc/{pid}").exists()]
    assert not left, left


def test_unreachable_ray_address_is_one_line(tmp_path, capsys):
    pytest.importorskip("ray")
    audio = tmp_path / "a.wav"
    sf.write(audio, [[0.0, 0.0]] * 100, 8000)
    code = main(["batch", str(audio), "-o", str(tmp_path / "out"), "--engine", "ray",
                 "--address", "127.0.0.1:9"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0
    assert "cannot reach the Ray cluster at 127.0.0.1:9" in err


#: A Ray cluster in a process of its own, requiring a token (as `ray start --head` does
#: since Ray 2.59): prints its address, stops when its standard input closes.
TOKEN_CLUSTER = """
import sys, ray
ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
"""


@pytest.mark.slow
def test_ray_cluster_with_token_authentication_is_joined_by_address(tmp_path):
    """`--address` joins a running cluster that requires a token, the token given as Ray
    documents it (``RAY_AUTH_TOKEN``) and ``RAY_AUTH_MODE`` not set; ``ray.init`` alone
    connects without the token there, and the cluster refuses it."""
    pytest.importorskip("ray")
    token = os.urandom(16).hex()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    cluster = subprocess.Popen(
        [sys.executable, "-c", TOKEN_CLUSTER],
        env={**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert cluster.stdout is not None
        address = cluster.stdout.readline().strip()
        assert address, "the Ray cluster did not start"
        clips = _simulate(tmp_path, 2)
        done = subprocess.run(
            _batch_command(tmp_path, tmp_path / "out", "--engine", "ray", "--address", address),
            env={**env, "RAY_AUTH_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        cluster.communicate(timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read_results_csv(tmp_path / "out" / CSV_NAME)
    assert sorted(Path(r["input"]).name for r in rows) == sorted(p.name for p, _ in clips)
    assert [r["status"] for r in rows] == ["ok", "ok"], rows


def test_inputs_from_folders_globs_and_manifests(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.wav", "sub/b.flac", "sub/c.txt", "d.mp3"):
        (tmp_path / name).write_bytes(b"x")
    found = collect_inputs(
        [str(tmp_path / "sub"), str(tmp_path / "*.wav"), str(tmp_path / "a.wav")]
    )
    assert [Path(c.input).name for c in found] == ["b.flac", "a.wav"]  # a.wav once
    assert all(c.error is None for c in found)
    assert found[0].clip_id.startswith("b-") and found[0].clip_id != found[1].clip_id
    nothing = collect_inputs([str(tmp_path / "*.ogg")])
    assert nothing[0].error.endswith("no files match")

    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "input,id,layout,frames\na.wav,first,binaural,16\nd.mp3,,quad,\nnope.wav,x,,\n"
        "a.wav,first,,\n"
    )
    rows = read_manifest(manifest)
    assert rows[0].overrides == {"layout": "binaural", "n_frames": 16} and rows[0].error is None
    assert "line 3" in rows[1].error and "layout" in rows[1].error and "quad" in rows[1].error
    assert rows[2].error.endswith("nope.wav: file not found")
    deduped = collect_inputs([str(manifest)])
    assert "already used" in deduped[3].error


def test_manifest_rows_with_bytes_not_utf8_or_huge_cells_fail_alone(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    csv_manifest = tmp_path / "m.csv"
    csv_manifest.write_bytes(
        b"\xef\xbb\xbfinput,id\n"  # Excel's "CSV UTF-8" starts with a byte order mark
        b"a.wav,first\n"
        b"a.wav,caf\xe9\n"  # Latin-1, not UTF-8
        + b"a.wav,"
        + b"x" * 200_000
        + b"\n"  # over the csv module's cell limit
        b"a.wav,last\n"
    )
    rows = read_manifest(csv_manifest)
    assert [r.error is None for r in rows] == [True, False, False, True]
    assert rows[0].clip_id == "first" and rows[3].clip_id == "last"
    assert "line 3" in rows[1].error and "not UTF-8" in rows[1].error
    assert "line 4" in rows[2].error and "not CSV" in rows[2].error

    jsonl = tmp_path / "m.jsonl"
    jsonl.write_bytes(
        b'\xef\xbb\xbf{"input": "a.wav", "id": "one"}\n{"input": "a.wav", "id": "\xff"}\n'
        + json.dumps({"input": "x" * 100_000}).encode()
    )
    rows = read_manifest(jsonl)
    assert rows[0].error is None and rows[0].clip_id == "one"
    assert "line 2" in rows[1].error and "not UTF-8" in rows[1].error
    assert rows[2].error.endswith("file not found")  # a name too long for the system


def test_a_manifest_cell_limit_does_not_depend_on_what_another_library_set(tmp_path):
    """The csv module's cell limit is one value for the whole process: a manifest row
    with a huge cell fails alone also when some other code lifted that limit (the
    batch's own results reader lifts it, for itself, while it reads)."""
    (tmp_path / "a.wav").write_bytes(b"x")
    manifest = tmp_path / "m.csv"
    manifest.write_text("input,id\na.wav," + "x" * 200_000 + "\na.wav,last\n")
    lifted = 10 * 200_000
    previous = csv.field_size_limit(lifted)
    try:
        rows = read_manifest(manifest)
        assert csv.field_size_limit() == lifted  # left as that code set it
    finally:
        csv.field_size_limit(previous)
    assert [r.error is None for r in rows] == [False, True]
    assert "not CSV" in rows[0].error


def test_a_results_table_with_a_huge_cell_reads_back(tmp_path):
    """Found by the fuzzing campaign (seed 14): a failed row keeps the user's
    200,000-character cell (and an error naming it) in results.csv, which
    read_results_csv then refused with a csv.Error (the module's 131,072 limit)."""
    huge = "x" * 200_000
    csv_path = tmp_path / CSV_NAME
    csv_path.write_text(csv_text([{"input": huge, "status": "failed", "error": huge}]))
    (row,) = read_results_csv(csv_path)
    assert row["input"] == huge and row["error"] == huge and row["status"] == "failed"
    assert csv.field_size_limit() == 131_072  # the limit is restored afterwards


def test_a_bad_row_with_huge_values_gets_an_error_line_of_readable_length(tmp_path):
    """A row's error names its bad value, cut in the middle when it is long: a
    200,000-character id, input or option value is not printed whole."""
    huge = "é" * 200_000
    manifest = tmp_path / "m.jsonl"
    rows = [
        {"input": "a.wav", "id": huge},
        {"input": huge},
        {"input": "a.wav", "id": "b", "layout": huge},
        {"input": "a.wav", "id": "c", huge: "1"},
    ]
    manifest.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    sf.write(tmp_path / "a.wav", [[0.0, 0.0]] * 100, 8000)
    errors = [clip.error or "" for clip in read_manifest(manifest)]
    assert all(len(e) < 400 for e in errors), [len(e) for e in errors]
    assert all(" characters)..." in e for e in errors), [e[:200] for e in errors]


def test_manifest_option_values_take_what_the_flags_take():
    bad = {"hop_ms": "0", "max_sources": "99", "keyframe_fps": "1e9", "fps": "nan",
           "frames": "0", "max_duration_s": "-1", "fps_plan": "0"}  # fmt: skip
    for name, value in bad.items():
        with pytest.raises(ValueError, match=f"option {name}: '{value}'"):
            parse_overrides({name: value})
    good = {"hop_ms": "20", "max_sources": "2", "keyframe_fps": "60", "fps": "120",
            "frames": "16", "max_duration_s": "0"}  # fmt: skip
    assert parse_overrides(good) == {
        "hop_s": 0.02, "max_sources": 2, "plan_fps": 60.0, "fps": 120.0, "n_frames": 16,
        "max_duration_s": None,  # 0 is no limit, as --max-duration-s 0
    }  # fmt: skip


def test_clip_ids_that_name_the_batch_files_fail_their_row(tmp_path):
    from spa2v.batch.inputs import RESERVED_IDS

    assert {BATCH_FILE, CSV_NAME, PARQUET_NAME} == RESERVED_IDS
    sim = simulate_static(30.0, 3.0, format="spaced", duration_s=1.0, sr=16_000, seed=1)
    sf.write(tmp_path / "a.wav", sim.signal.samples.T, sim.signal.sr)
    manifest = tmp_path / "m.csv"
    manifest.write_text("input,id\na.wav,results.csv\na.wav,Batch.json\na.wav,fine\n")
    out = tmp_path / "out"
    options = RunOptions(size=(64, 40), fps=4.0, n_frames=4, tags=False, cue_plot=False)
    summary = run_batch([str(manifest)], out, options, workers=1)
    assert [r["status"] for r in summary.rows] == ["failed", "failed", "ok"]
    assert "name of a file of the batch's own" in summary.rows[0]["error"]
    assert (out / CSV_NAME).is_file() and json.loads((out / BATCH_FILE).read_text())
    assert len(read_results_csv(out / CSV_NAME)) == 3


def test_exit_code_counts_failures_with_a_cap():
    assert [failed_exit_code(n) for n in (0, 1, 99, 100, 101, 10_000)] == [
        0,
        11,
        109,
        110,
        110,
        110,
    ]


def test_batch_json_records_options_without_secrets(local_run):
    from spa2v.batch.runner import options_record

    record = json.loads((local_run.out_dir / BATCH_FILE).read_text())
    assert record["options"]["size"] == [128, 80]
    secret = RunOptions(planner="llm", planner_options={"api_key": "sk-123", "model": "m"})
    assert options_record(secret)["planner_options"] == {"model": "m"}


@pytest.mark.slow
@pytest.mark.diffusion
def test_ray_runs_the_diffusion_generator_as_an_actor_stage(twenty, tmp_path):
    """The generator stage as a Ray actor pool (on CPUs here: 0 GPUs per actor), with a
    tiny random-weight model: every clip gets its generated video."""
    import av

    ray = pytest.importorskip("ray")
    pytest.importorskip("diffusers")
    from diffusion_tiny import tiny_modelscope
    from spa2v.rendering.diffusion.options import DiffusionOptions

    model = tiny_modelscope(tmp_path / "model")
    diffusion = DiffusionOptions(
        base="modelscope", model=str(model), steps=2, num_frames=4, width=48, height=32,
        device="cpu", show_progress=False, video_size=(64, 40), video_fps=8.0,
    )  # fmt: skip
    options = RunOptions(
        size=(64, 40), fps=8.0, cue_plot=False, generator="diffusion",
        generator_options={"diffusion_options": diffusion},
    )  # fmt: skip
    inputs = [str(twenty.parent / f"clip0{k}.wav") for k in range(3)]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        done = run_batch(inputs, tmp_path / "out", options, engine="ray", gpus_per_actor=0)
    finally:
        ray.shutdown()
    assert [r["status"] for r in done.rows] == ["ok"] * 3, done.rows
    for row in done.rows:
        with av.open(str(done.out_dir / row["video_path"])) as container:
            frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
        assert frame.shape == (40, 64, 3)
        assert row["render_s"] > 0

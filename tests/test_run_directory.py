"""Run directories (issue #17): one run at a time (an OS lock, tested with two real processes),
no silent replacement of a finished run, a full disk reported with the command to resume, strict
JSON, and unwritable ``--out`` paths refused before any sampling."""

from __future__ import annotations

import errno
import io
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import pytest
from specimens import SHORT_PATH_MODEL as MODEL

from nnqm_ppl import report, strictjson
from nnqm_ppl.atomic import atomic_path
from nnqm_ppl.cli import EXIT_DISK_FULL, main
from nnqm_ppl.rundir import LOCK_NAME, claimed
from nnqm_ppl.sampling import CHECKPOINT_NAME

#: one chain, 40 draws in two checkpointed segments: a few seconds
JOB = """
task = "sample"
model = "model.toml"
[sampler]
chains = 1
warmup = 20
samples = 40
checkpoint_every = 20
[observables]
names = ["x2"]
[gates]
ess_min = 5
"""


def _no_constant(token: str):
    raise ValueError(f"bare {token}")


def _strict(path: Path) -> dict:
    """What a strict reader (jq, JavaScript) makes of a file: NaN/Infinity are errors."""
    return json.loads(path.read_text(), parse_constant=_no_constant)


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("job")
    (folder / "model.toml").write_text(MODEL)
    (folder / "job.toml").write_text(JOB)
    return folder / "job.toml"


@pytest.fixture(scope="module")
def contested(job: Path, tmp_path_factory) -> dict:
    """Two real processes, one ``--out``: a run of :data:`JOB` (seed 0, 100 draws) in a child
    process, and, while it holds the directory, this process's run of the job with seed 5.

    Returns the directory, the child's pid, exit code, stdout and stderr, and this process's exit
    code and stderr.
    """
    out = tmp_path_factory.mktemp("contested") / "run"
    cmd = [sys.executable, "-m", "nnqm_ppl.cli", "run", str(job), "--out", str(out), "--no-progress",
           "--set", "sampler.samples=100"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t_end = time.monotonic() + 120
        while not ((out / LOCK_NAME).is_file() and (out / LOCK_NAME).stat().st_size):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < t_end, "the first run never took its lock"
            time.sleep(0.01)
        err = io.StringIO()
        with redirect_stderr(err):
            code = main(["run", str(job), "--out", str(out), "--no-progress", "--seed", "5"])
        still_running = first.poll() is None
    finally:
        stdout, stderr = first.communicate(timeout=300)
    return {"out": out, "pid": first.pid, "rc": first.returncode, "stdout": stdout, "stderr": stderr,
            "still_running": still_running, "second_rc": code, "second_err": err.getvalue()}


@pytest.fixture(scope="module")
def finished(contested: dict) -> Path:
    """A finished run of :data:`JOB`, seed 0, 100 draws (copy it before changing it)."""
    assert contested["rc"] in (0, 3), contested["stderr"]
    return contested["out"]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_second_run_on_a_held_directory_exits_2_naming_the_holder(job: Path, contested: dict) -> None:
    lines = contested["second_err"].strip().splitlines()
    assert contested["second_rc"] == 2 and len(lines) == 1, lines
    line = lines[0]
    assert contested["still_running"], "the first run ended before the second was refused"
    assert "in use by another run" in line and f"pid {contested['pid']} " in line, line
    assert f"job {job}" in line and "on host " in line and "started 20" in line, line
    # the first run was not disturbed: it ends with its own summary (seed 0, 100 draws), lock file gone
    out = contested["out"]
    assert contested["rc"] in (0, 3), contested["stderr"]
    assert f"wrote {out}/summary.json" in contested["stdout"]
    summary = _strict(out / "summary.json")
    assert summary["seed"] == 0 and summary["spec"]["sampler"]["samples"] == 100
    assert not (out / LOCK_NAME).exists()


#: a process that takes a run directory's lock as a run does and waits to be killed
HOLDER = """
import fcntl, json, os, socket, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "job": "j", "started": "t"}).encode())
print(flush=True)
time.sleep(600)
"""


def test_a_killed_holder_leaves_no_lock(tmp_path: Path, job: Path, capsys) -> None:
    """The lock is the kernel's (it dies with the process): the file a killed run leaves behind,
    still naming it, does not stop the next run."""
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out / LOCK_NAME)], stdout=subprocess.PIPE, text=True)
    try:
        holder.stdout.readline()  # it holds the lock now
        assert main(["run", str(job), "--out", str(out), "--no-progress"]) == 2
        line = _one_line(capsys)
        assert "in use by another run" in line and f"pid {holder.pid} " in line, line
    finally:
        holder.kill()
        holder.wait()
    assert (out / LOCK_NAME).exists()
    with claimed(out, str(job)):  # would raise "in use by another run" if the lock had outlived its holder
        assert json.loads((out / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert list(out.iterdir()) == []


def test_finished_run_of_another_spec_is_refused_without_force(tmp_path: Path, job: Path, finished: Path,
                                                               capsys) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    for extra, differs in ((["--seed", "5"], "sampler.seed: 0 there, 5 now"),
                           (["--set", "sampler.samples=100", "--set", "sampler.target_accept=0.9"],
                            "sampler.target_accept: 0.8 there, 0.9 now"),
                           ([], "sampler.samples: 100 there, 40 now")):
        assert main(["run", str(job), "--out", str(out), "--no-progress", *extra]) == 2
        line = _one_line(capsys)
        assert "finished run of this job with a different spec or seed" in line and differs in line, line
        assert "add --force to replace it" in line
        assert {f.name: f.read_bytes() for f in out.iterdir()} == before  # nothing touched
    assert main(["run", str(job), "--out", str(out), "--force", "--resume"]) == 2
    assert "give one of them" in _one_line(capsys)


def test_forced_run_on_a_full_disk_exits_4_keeps_the_checkpoint_and_resumes(
        tmp_path: Path, job: Path, finished: Path, capsys, monkeypatch) -> None:
    """``--force`` removes the earlier run before sampling; ENOSPC, injected into the draws' file
    after part of it is written, stops the run with exit 4 and one line; no result is left, the
    checkpoint is, and the printed command finishes the run."""
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    (out / "correlator.png").write_bytes(b"a figure of the earlier run")  # one this job does not draw
    wrote = []

    def full_disk(target: Path, tree) -> None:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(1000))  # the part that fitted
            wrote.append(tmp)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    monkeypatch.setattr(report, "write_datatree", full_disk)
    assert main(["run", str(job), "--out", str(out), "--no-progress", "--seed", "5", "--force"]) == EXIT_DISK_FULL
    line = _one_line(capsys)
    assert line.startswith("nnqm: disk full (No space left on device)") and "free space" in line, line
    assert wrote and not wrote[0].exists()
    # the earlier run's files are gone, no partial file, no summary, no lock: only the checkpoint
    assert sorted(f.name for f in out.iterdir()) == [CHECKPOINT_NAME]
    monkeypatch.undo()
    command = shlex.split(line.split("then run: ")[1])
    assert command[-3:] == ["--seed", "5", "--resume"] and "--force" not in command
    assert main([*command[1:], "--no-progress"]) in (0, 3)
    assert _strict(out / "summary.json")["seed"] == 5
    assert {f.name for f in out.iterdir()} == {"summary.json", "samples.nc", "trace.png"}


def test_unwritable_out_exits_2_before_sampling(tmp_path: Path, job: Path, capsys) -> None:
    (tmp_path / "notes").write_text("a file, not a directory\n")  # refused to root as well
    assert main(["run", str(job), "--out", str(tmp_path / "notes" / "run")]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (f"nnqm: --out {tmp_path / 'notes' / 'run'}: cannot create the directory: "
                                    "a parent of it is a file; choose another --out")
    assert captured.out == ""  # nothing was started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


def test_read_only_out_exits_2_before_sampling(tmp_path: Path, job: Path, capsys) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only (mode 0555) directory: no permission error to provoke")
    (tmp_path / "ro").mkdir(mode=0o555)
    for out in (tmp_path / "ro", tmp_path / "ro" / "missing" / "run"):
        assert main(["run", str(job), "--out", str(out)]) == 2
        assert "Permission denied; choose another --out" in _one_line(capsys)
    assert list((tmp_path / "ro").iterdir()) == []


def test_summaries_are_strict_json(finished: Path) -> None:
    summary = _strict(finished / "summary.json")
    assert summary["observables"]["x2"]["value"] > 0


def test_non_finite_paths_give_null_diagnostics_with_the_reason(tmp_path: Path, capsys, monkeypatch) -> None:
    import arviz_base

    from nnqm_ppl.tasks import path_integral

    x = np.zeros((1, 4, 8))
    x[0, 2, 3] = np.inf  # an overflowing action

    def inf_paths(theory, job, key, progress, checkpoint=None):
        return arviz_base.from_dict({"posterior": {"x": x}, "sample_stats": {"diverging": np.zeros((1, 4), bool)}})

    monkeypatch.setattr(path_integral, "draw_paths", inf_paths)
    (tmp_path / "model.toml").write_text(MODEL)
    (tmp_path / "job.toml").write_text(JOB)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "job.toml"), "--out", str(out), "--no-progress"]) == 3
    diag = _strict(out / "summary.json")["diagnostics"]
    assert diag["rhat_max"] is None and diag["tree_depth_fraction"] is None
    assert diag["rhat_skipped"].startswith("not computed: non-finite paths in 1 of 4 draws")


def test_strict_json_replaces_non_finite_numbers_and_says_what_they_were() -> None:
    data = {
        "a": math.nan,
        "b": {"value": 1.5, "mcse": np.float32("inf"), "n": np.int64(3), "ok": np.bool_(True)},
        "c": np.array([[1.0, -np.inf], [np.nan, 2.0]]),
        "d": [{"x": -math.inf}, 0.25],
        "e": "NaN",
    }
    text = strictjson.dumps(data, default=report._json_default)
    back = strictjson.loads(text)
    assert back == {
        "a": None,
        "b": {"value": 1.5, "mcse": None, "n": 3, "ok": True, "non_finite": {"mcse": "Infinity"}},
        "c": [[1.0, None], [None, 2.0]],
        "d": [{"x": None, "non_finite": {"x": "-Infinity"}}, 0.25],
        "e": "NaN",
        "non_finite": {"a": "NaN", "c": "2 of 4 numbers: -Infinity, NaN"},
    }
    for bare in ('{"a": NaN}', '{"a": Infinity}', "[-Infinity]"):
        with pytest.raises(ValueError, match="bare"):
            strictjson.loads(bare)
    with pytest.raises(TypeError, match="not JSON serialisable"):
        strictjson.dumps({"a": object()})

"""Bad input gets one clear line naming the file and the field, exit 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from specimens import FIELD_MODEL as NF_MODEL
from specimens import PATH_MODEL as PI_MODEL

from nnqm_ppl.cli import main
from nnqm_ppl.spec import SpecError, parse_override
from nnqm_ppl.tasks import load_job

NF_JOB = """
title = "t"
task = "correlators"
model = "model.toml"
points = [[0.0, 0.0], [0.5, 0.1], [1.0, -0.3], [0.2, 0.7]]
networks = 1000
"""
PI_JOB = """
task = "sample"
model = "model.toml"
"""


def _write(tmp_path: Path, job: str, model: str) -> Path:
    (tmp_path / "model.toml").write_text(model)
    path = tmp_path / "job.toml"
    path.write_text(job)
    return path


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# (id, job text, model text, overrides, field named in the message)
CASES = [
    ("width<1", NF_JOB, _sub(NF_MODEL, "width = 4", "width = 0"), [], "model.width"),
    ("width float", NF_JOB, _sub(NF_MODEL, "width = 4", "width = 4.5"), [], "model.width"),
    ("sigma_a<=0", NF_JOB, _sub(NF_MODEL, "sigma_a = 1.0", "sigma_a = 0.0"), [], "model.sigma_a"),
    ("sigma_b<0", NF_JOB, _sub(NF_MODEL, "sigma_b = 1.0", "sigma_b = -1.0"), [], "model.sigma_b"),
    ("mass<=0", NF_JOB, NF_MODEL + "mass = -2.0\n", [], "model.mass"),
    ("points dim mismatch", _sub(NF_JOB, "[0.5, 0.1]", "[0.5]"), NF_MODEL, [], "points[1]"),
    ("networks<2", _sub(NF_JOB, "networks = 1000", "networks = 1"), NF_MODEL, [], "networks"),
    ("nan point", _sub(NF_JOB, "[0.5, 0.1]", "[nan, 0.1]"), NF_MODEL, [], "points[1]"),
    ("inf point", _sub(NF_JOB, "[0.5, 0.1]", "[0.5, inf]"), NF_MODEL, [], "points[1]"),
    ("unknown architecture", NF_JOB, _sub(NF_MODEL, '"cosnet"', '"resnet"'), [], "model.architecture"),
    ("malformed TOML", NF_JOB, NF_MODEL + "width = = 3\n", [], "model.toml"),
    ("unknown field", NF_JOB + "netwroks = 3\n", NF_MODEL, [], "netwroks"),
    ("unknown task", _sub(NF_JOB, '"correlators"', '"dance"'), NF_MODEL, [], "task"),
    ("missing model file", _sub(NF_JOB, "model.toml", "nope.toml"), NF_MODEL, [], "model"),
    ("too few points for G4", _sub(NF_JOB, ", [1.0, -0.3], [0.2, 0.7]", ""), NF_MODEL, [], "points"),
    ("set width<1", NF_JOB, NF_MODEL, ["model.width=0"], "model.width"),
    ("set malformed", NF_JOB, NF_MODEL, ["model.width"], "model.width"),
    ("unbounded potential", PI_JOB, _sub(PI_MODEL, "1.0]", "-1.0]"), [], "model.potential"),
    ("odd potential", PI_JOB, _sub(PI_MODEL, "1.0]", "1.0, 0.2]"), [], "model.potential"),
    ("huge coefficient", PI_JOB, _sub(PI_MODEL, "1.0]", "1e300]"), [], "model.potential"),
    ("beta<=0", PI_JOB, _sub(PI_MODEL, "beta = 4.0", "beta = 0.0"), [], "model.beta"),
    ("slices<4", PI_JOB, _sub(PI_MODEL, "slices = 16", "slices = 3"), [], "model.slices"),
    ("m<=0", PI_JOB, PI_MODEL + "mass = 0.0\n", [], "model.mass"),
    ("hbar<=0", PI_JOB, PI_MODEL + "hbar = -1.0\n", [], "model.hbar"),
    ("unknown network", PI_JOB, _sub(PI_MODEL, '"fourier"', '"lstm"'), [], "model.network"),
    ("unknown boundary", PI_JOB, _sub(PI_MODEL, '"periodic"', '"twisted"'), [], "model.boundary"),
    ("fixed without ends", PI_JOB, _sub(PI_MODEL, '"periodic"', '"fixed"'), [], "model.x_ini"),
    ("nan potential", PI_JOB, _sub(PI_MODEL, "0.5, 0.0", "nan, 0.0"), [], "model.potential[2]"),
    ("nan beta", PI_JOB, _sub(PI_MODEL, "beta = 4.0", "beta = nan"), [], "model.beta"),
    ("unknown sampler method", PI_JOB + '[sampler]\nmethod = "gibbs"\n', PI_MODEL, [], "sampler.method"),
    ("chains<1", PI_JOB, PI_MODEL, ["sampler.chains=0"], "sampler.chains"),
    ("unknown observable", PI_JOB + '[observables]\nnames = ["x3"]\n', PI_MODEL, [], "observables.names"),
    ("wrong model kind", PI_JOB, NF_MODEL, [], "model"),
    ("psi0 on a periodic model", PI_JOB + '[observables]\nnames = ["psi0"]\n', PI_MODEL, [], "observables.names"),
    ("set psi0 on a periodic model", PI_JOB, PI_MODEL, ['observables.names=["x2", "psi0"]'], "observables.names"),
    ("exact sampler, quartic potential", PI_JOB + '[sampler]\nmethod = "exact"\n', PI_MODEL, [], "sampler.method"),
]


@pytest.mark.parametrize("job,model,overrides,field", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_spec_errors_name_file_and_field(tmp_path, job, model, overrides, field):
    path = _write(tmp_path, job, model)
    with pytest.raises(SpecError) as info:
        load_job(path, overrides)
    msg = str(info.value)
    assert field in msg
    assert "\n" not in msg
    # the origin is a file of ours or the --set option
    assert any(s in info.value.where for s in ("job.toml", "model.toml", "--set"))


@pytest.mark.parametrize("job,model,overrides,field", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_command_exits_2_with_one_line(tmp_path, capsys, job, model, overrides, field):
    path = _write(tmp_path, job, model)
    args = ["run", str(path), "--out", str(tmp_path / "out")]
    for o in overrides:
        args += ["--set", o]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and field in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "out").exists()


def test_override_values_parse_as_toml():
    assert parse_override("model.potential=[0,0,0.5,0,0.3]") == (["model", "potential"], [0, 0, 0.5, 0, 0.3])
    assert parse_override("sampler.chains=4") == (["sampler", "chains"], 4)
    assert parse_override("model.network=fourier") == (["model", "network"], "fourier")


def test_override_changes_the_model(tmp_path):
    path = _write(tmp_path, NF_JOB, NF_MODEL)
    job = load_job(path, ["model.width=7", "model.sigma_b=0.8"])
    assert (job.model.width, job.model.sigma_b) == (7, 0.8)


def test_out_dir_of_another_job_is_refused_and_kept(tmp_path, capsys):
    path = _write(tmp_path, NF_JOB, NF_MODEL)
    out = tmp_path / "out"
    out.mkdir()
    summary = {"spec": {"file": str(tmp_path / "other.toml")}, "task": "sample"}
    (out / "summary.json").write_text(json.dumps(summary))
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert "different job" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text()) == summary


def test_console_script_usage_error_is_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "nnqm_ppl.cli", "run"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def _unreadable_model(tmp_path: Path) -> tuple[Path, Path]:
    path = _write(tmp_path, PI_JOB, PI_MODEL)
    (tmp_path / "model.toml").write_bytes(b"kind = \"path_integral\"\n\xff\xfe network\n")
    return path, tmp_path / "out"


def _job_is_directory(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "job.toml").mkdir()
    return tmp_path / "job.toml", tmp_path / "out"


def _job_missing(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "nope.toml", tmp_path / "out"


def _out_is_a_file(tmp_path: Path) -> tuple[Path, Path]:
    path = _write(tmp_path, PI_JOB, PI_MODEL)
    (tmp_path / "out").write_text("my notes\n")
    return path, tmp_path / "out"


def _out_of_another_job(tmp_path: Path) -> tuple[Path, Path]:
    path = _write(tmp_path, PI_JOB, PI_MODEL)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "summary.json").write_text(json.dumps({"spec": {"file": str(tmp_path / "other.toml")}}))
    (tmp_path / "out" / "samples.nc").write_bytes(b"earlier draws")
    return path, tmp_path / "out"


def _corrupt_summary(tmp_path: Path) -> tuple[Path, Path]:
    path = _write(tmp_path, PI_JOB, PI_MODEL)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "summary.json").write_text('{"spec": ')
    return path, tmp_path / "out"


def _corrupt_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    path = _write(tmp_path, PI_JOB, PI_MODEL)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "checkpoint.npz").write_bytes(b"not an archive")
    return path, tmp_path / "out"


def _no_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    path = _write(tmp_path, PI_JOB, PI_MODEL)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("keep me\n")
    return path, tmp_path / "out"


def _negative_seed(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path, PI_JOB, PI_MODEL), tmp_path / "out"


def _exact_on_anharmonic(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path, PI_JOB + '[sampler]\nmethod = "exact"\n', PI_MODEL), tmp_path / "out"


# (id, setup -> (job path, --out), extra arguments, text the one line must contain)
RUN_CASES = [
    ("unreadable model file", _unreadable_model, [], "model.toml"),
    ("job file is a directory", _job_is_directory, [], "job.toml"),
    ("job file missing", _job_missing, [], "nope.toml"),
    ("--out is a file", _out_is_a_file, [], "--out"),
    ("--out holds another job", _out_of_another_job, [], "different job"),
    ("--out summary corrupt", _corrupt_summary, [], "summary.json"),
    ("checkpoint corrupt", _corrupt_checkpoint, ["--resume"], "checkpoint.npz"),
    ("--resume without checkpoint", _no_checkpoint, ["--resume"], "--resume"),
    ("negative --seed", _negative_seed, ["--seed", "-3"], "--seed"),
    ("exact sampler on an anharmonic model", _exact_on_anharmonic, [], "sampler.method"),
]


def _snapshot(out: Path) -> dict[str, bytes] | None:
    if not out.exists():
        return None
    if out.is_file():
        return {"": out.read_bytes()}
    return {f.name: f.read_bytes() for f in out.iterdir()}


@pytest.mark.parametrize("setup,extra,text", [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES])
def test_run_time_bad_input_exits_2_and_keeps_files(tmp_path, capsys, setup, extra, text):
    job, out = setup(tmp_path)
    before = _snapshot(out)
    assert main(["run", str(job), "--out", str(out), "--no-progress", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and text in err[0] and "Traceback" not in err[0], err
    assert _snapshot(out) == before  # nothing deleted, overwritten or added


def test_at_least_30_distinct_bad_inputs():
    assert len({c[0] for c in CASES} | {c[0] for c in RUN_CASES}) >= 30


def test_non_finite_draws_fail_the_gates_with_exit_3_and_keep_the_draws(tmp_path, capsys, monkeypatch):
    import arviz_base
    import numpy as np

    from nnqm_ppl.tasks import path_integral

    x = np.zeros((2, 5, 17))
    x[1, 3, 4] = np.nan  # what an overflowing action leaves in the paths

    def nan_paths(theory, job, key, progress, checkpoint=None):
        return arviz_base.from_dict({"posterior": {"x": x}, "sample_stats": {"diverging": np.ones((2, 5), bool)}})

    monkeypatch.setattr(path_integral, "draw_paths", nan_paths)
    path = _write(tmp_path, PI_JOB, PI_MODEL)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 3
    assert "non-finite paths in 1 of 10 draws" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diagnostics"]["passed"] is False and summary["diagnostics"]["divergences"] == 10
    assert (out / "samples.nc").is_file()

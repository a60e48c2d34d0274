"""Bad input to ``task = "fit"``: each is exit 2 with one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnqm_ppl.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPECTRUM = str(ROOT / "inference" / "fit_spectrum.toml")
COSNET = str(ROOT / "inference" / "cosnet_hyperparameters.toml")


def _npz(path: Path, **changes) -> str:
    with np.load(ROOT / "inference" / "data" / "anharmonic_correlator.npz") as f:
        arrays = {k: np.array(f[k]) for k in f.files}
    for k, v in changes.items():
        arrays[k] = v(arrays[k])
    np.savez(path, **arrays)
    return str(path)


def _nan(a):
    a[3] = np.nan
    return a


def _non_psd(c):
    c = c.copy()
    c[0, 1] = c[1, 0] = 2 * np.sqrt(c[0, 0] * c[1, 1])
    return c


CASES = [
    (COSNET, ["fit.kind=quadratic"], "fit.kind", "unknown value"),
    (COSNET, ["fit.priors.sigma_a.scale=0"], "fit.priors.sigma_a.scale", "must be > 0"),
    (COSNET, ["fit.priors.sigma_b.scale=-1.0"], "fit.priors.sigma_b.scale", "must be > 0"),
    (SPECTRUM, ["fit.states=[0, 1]"], "fit.states", "must be >= 1"),
    (COSNET, ["data=no_such_file.csv"], "data", "not found"),
    (COSNET, ["fit.parameters=['mass']"], "fit.parameters", "unknown name"),
    (SPECTRUM, ["fit.tau_max=0.5", "fit.states=[2]"], "tau", "2 data points in the fit range, but the fit has 4"),
    (COSNET, ["gates.fit_p_min=1.0"], "gates.fit_p_min", "must be < 1"),
    (COSNET, ["gates.fit_p_min=-0.01"], "gates.fit_p_min", "must be >= 0"),
]


@pytest.mark.parametrize(("job", "sets", "field", "reason"), CASES, ids=[c[2] + ":" + c[1][0] for c in CASES])
def test_bad_fit_spec(job, sets, field, reason, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["run", job, "--out", str(tmp_path / "out"), "--no-progress"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f": {field}: " in err[0] and reason in err[0], err


DATA_CASES = [
    ("nan.npz", {"mean": _nan}, "mean", "NaN"),
    ("nonpsd.npz", {"cov": _non_psd}, "cov", "not positive semidefinite"),
    ("late.npz", {"tau": lambda t: t * 3}, "tau", "τ must be <= β"),
    ("beta.npz", {"beta": lambda b: b * 2}, "beta", "the model has β"),
]


@pytest.mark.parametrize(("name", "change", "field", "reason"), DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data(name, change, field, reason, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _npz(tmp_path / name, **change)
    args = ["run", SPECTRUM, "--out", str(tmp_path / "out"), "--no-progress", "--set", f"data={path}"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}: {field}: " in err[0] and reason in err[0], err


def test_bad_csv(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("tau,value,error\n0,1.0,0.1\n0.5,0.5,0.0\n")
    assert main(["run", COSNET, "--out", str(tmp_path / "o"), "--set", f"data={bad}"]) == 2
    assert f"{bad}: error: errors must be > 0" in capsys.readouterr().err
    bad.write_text("tau,value\n0,1.0\n")
    assert main(["run", COSNET, "--out", str(tmp_path / "o"), "--set", f"data={bad}"]) == 2
    assert f"{bad}: error: missing column" in capsys.readouterr().err

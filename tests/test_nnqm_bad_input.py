"""Bad input to the process models and the ``nnqm`` task: exit 2, one line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnqm_ppl.cli import main

OU = """
kind = "ou"
rate = 1.0
diffusion = 0.5
horizon = 2.0
steps = 40
"""
DEEP = """
kind = "deep_nnqm"
width = 4
activation = "tanh"
horizon = 2.0
steps = 40

[input]
rate = 1.0
diffusion = 0.5
"""
KKL = """
kind = "kkl"
kernel = "ou"
n_modes = 20
variance = 0.5
rate = 1.0
horizon = 2.0
steps = 40
"""
JOB = """
task = "nnqm"
model = "model.toml"

[sampler]
method = "exact"
chains = 1
samples = 100
"""


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


# (id, job text, model text, overrides, field named in the message)
CASES = [
    ("ou rate<=0", JOB, _sub(OU, "rate = 1.0", "rate = 0.0"), [], "model.rate"),
    ("ou rate<0 set", JOB, OU, ["model.rate=-1.0"], "model.rate"),
    ("ou D<=0", JOB, _sub(OU, "diffusion = 0.5", "diffusion = -0.5"), [], "model.diffusion"),
    ("T<=0", JOB, _sub(OU, "horizon = 2.0", "horizon = 0.0"), [], "model.horizon"),
    ("T inf", JOB, _sub(OU, "horizon = 2.0", "horizon = inf"), [], "model.horizon"),
    ("T nan set", JOB, OU, ["model.horizon=nan"], "model.horizon"),
    ("steps odd", JOB, _sub(OU, "steps = 40", "steps = 41"), [], "model.steps"),
    ("steps<8", JOB, _sub(OU, "steps = 40", "steps = 4"), [], "model.steps"),
    ("deep input rate<=0", JOB, _sub(DEEP, "rate = 1.0", "rate = 0.0"), [], "model.input.rate"),
    ("deep input D<=0", JOB, _sub(DEEP, "diffusion = 0.5", "diffusion = 0.0"), [], "model.input.diffusion"),
    ("deep input rates<=0", JOB, _sub(DEEP, "rate = 1.0", "rates = [1.0, -2.0]"), [], "model.input.rates[1]"),
    ("deep rate and rates", JOB, DEEP, ["model.input.rates=[1.0, 2.0]"], "model.input.rates"),
    ("deep unknown activation", JOB, _sub(DEEP, '"tanh"', '"gelu"'), [], "model.activation"),
    ("deep width<1", JOB, _sub(DEEP, "width = 4", "width = 0"), [], "model.width"),
    ("deep unknown input field", JOB, DEEP + "rte = 2.0\n", [], "model.input.rte"),
    ("kkl K<1", JOB, _sub(KKL, "n_modes = 20", "n_modes = 0"), [], "model.n_modes"),
    ("kkl unknown kernel", JOB, _sub(KKL, '"ou"', '"spline"'), [], "model.kernel"),
    ("kkl not PSD (cauchy alpha>2)", JOB, KKL + "alpha = 3.0\n", ["model.kernel=\"cauchy\""], "model.alpha"),
    ("kkl gamma<=0", JOB, _sub(KKL, "rate = 1.0", "rate = -1.0"), [], "model.rate"),
    ("kkl exp_sum negative weight", JOB, KKL + "weights = [1.0, -0.5]\nrates = [1.0, 2.0]\n",
     ["model.kernel=\"exp_sum\""], "model.weights[1]"),
    ("kkl analytic basis", JOB, KKL + 'basis = "analytic"\n', ["model.kernel=\"matern32\""], "model.basis"),
    ("nnqm needs exact sampler", _sub(JOB, '"exact"', '"nuts"'), OU, [], "sampler.method"),
    ("nnqm powers", JOB + "powers = [1, 0]\n", OU, [], "powers"),
    ("nnqm on a neural field", JOB, 'kind = "neural_field"\narchitecture = "cosnet"\nwidth = 2\n', [], "model"),
    ("unknown observable", JOB + '[observables]\nnames = ["gap"]\n', OU, [], "observables.names"),
]


@pytest.mark.parametrize("job,model,sets,field", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys, job, model, sets, field):
    (tmp_path / "model.toml").write_text(model)
    path = tmp_path / "job.toml"
    path.write_text(job)
    args = ["run", str(path), "--out", str(tmp_path / "out")]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert field in err, err
    assert ("model.toml" in err or "job.toml" in err or "--set" in err), err


def test_exact_on_a_bad_model_file(tmp_path: Path, capsys):
    path = tmp_path / "m.toml"
    path.write_text(_sub(KKL, "n_modes = 20", "n_modes = 0"))
    assert main(["exact", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "m.toml" in err and "n_modes" in err and "\n" not in err

"""Property: any value of any spec field either loads or is refused with :class:`SpecError`
naming the field — never another exception (path-integral and neural-field models, the sampler
and gates tables, task fields, and unknown keys)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from specimens import FIELD_MODEL as NF_MODEL
from specimens import PATH_MODEL as PI_MODEL

from nnqm_ppl.spec import Job, SpecError
from nnqm_ppl.tasks import load_job

PI_JOB = 'task = "sample"\nmodel = "pi.toml"\n'
NF_JOB = (
    'task = "correlators"\nmodel = "nf.toml"\n'
    "points = [[0.0, 0.0], [0.5, 0.1], [1.0, -0.3], [0.2, 0.7]]\nnetworks = 1000\n"
)
COMMON = [
    "title", "task", "sampler.method", "sampler.chains", "sampler.warmup", "sampler.samples", "sampler.seed",
    "sampler.target_accept", "sampler.max_tree_depth", "sampler.step_size", "sampler.num_steps",
    "sampler.checkpoint_every", "gates.rhat_max", "gates.ess_min", "gates.divergences_max",
    "gates.tree_depth_max_fraction", "observables.names", "sampler.typo", "gates", "sampler",
]
PI_FIELDS = COMMON + [f"model.{k}" for k in (
    "kind", "network", "mass", "hbar", "potential", "beta", "slices", "boundary", "x_ini", "x_fin", "extra")]
NF_FIELDS = COMMON + ["points", "networks"] + [f"model.{k}" for k in (
    "kind", "architecture", "width", "dim", "sigma_a", "sigma_b", "sigma_c", "mass", "cutoff", "activation",
    "depth", "extra")]


def _toml_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.sampled_from([-1, 0, 1, 2, 3, 4, 5, 16, 1000]).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(_toml_float),
    st.sampled_from(["0.0", "-0.0", "1e-300", "1e300", "0.999", "1.01"]),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.sampled_from(["nuts", "hmc", "exact", "fourier", "position", "periodic", "half_line", "cosnet",
                     "path_integral", "neural_field", "sample", "correlators", "x2", "G2", "?", "é"]).map(
        lambda s: f'"{s}"'),
    st.text(alphabet="abcxyz_ 0123", max_size=8).map(lambda s: f'"{s}"'),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.dictionaries(st.sampled_from(["a", "b", "x2"]), inner, max_size=2).map(
            lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"),
    ),
    max_leaves=8,
) | st.sampled_from(["", "[", "fourier", "1 2", "{a =}", "=", "'", "[[0.0, 0.0], [1.0]]"])


def _outcome(path: Path, data) -> str:
    """Load with the overrides: "loaded", or "refused" by a one-line SpecError naming its origin.

    Any other exception propagates and fails the test.
    """
    overrides = [f"{f}={v}" for f, v in data]
    try:
        job = load_job(path, overrides)
    except SpecError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg
        assert exc.where.startswith("--set") or exc.where.endswith(".toml")
        return "refused"
    assert isinstance(job, Job)
    return "loaded"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("spec")
    (d / "pi.toml").write_text(PI_MODEL)
    (d / "nf.toml").write_text(NF_MODEL)
    (d / "pi_job.toml").write_text(PI_JOB)
    (d / "nf_job.toml").write_text(NF_JOB)
    return {"pi": d / "pi_job.toml", "nf": d / "nf_job.toml"}


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(data=st.lists(st.tuples(st.sampled_from(PI_FIELDS), values), min_size=1, max_size=3))
def test_path_integral_fields_load_or_spec_error(files, data) -> None:
    assert _outcome(files["pi"], data) in ("loaded", "refused")


@SETTINGS
@given(data=st.lists(st.tuples(st.sampled_from(NF_FIELDS), values), min_size=1, max_size=3))
def test_neural_field_fields_load_or_spec_error(files, data) -> None:
    assert _outcome(files["nf"], data) in ("loaded", "refused")

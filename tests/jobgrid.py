"""Shared runs of the shipped jobs (inference/*.toml) for the job grid and the standing guard.

A run goes through what ``nnqm run`` does (load the job with overrides, run its task, write
``summary.json``) without drawing the figures, and is cached per (job, overrides, seed) for the
test session, so the standing guard reuses the grid's run of each job's shipped coupling.
The exit code is the command's: 0 when the gates pass, 3 when they fail or the task hits
numerical trouble before any draw.

``CI_SIZE`` holds the size overrides that make a job cheap enough for the test suite;
``GRID`` the couplings a user would try (the shipped value in the middle, seed 0 there).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import jax

from nnqm_ppl import report, strictjson
from nnqm_ppl.sampling import NumericalTrouble
from nnqm_ppl.tasks import load_job, runner

ROOT = Path(__file__).resolve().parent.parent
JOBS = sorted(p.stem for p in (ROOT / "inference").glob("*.toml"))

#: size overrides per job for the suite (jobs not listed run at their shipped size)
CI_SIZE: dict[str, tuple[str, ...]] = {
    "cosnet_correlators": ("networks=200000", "model.width=4", "gates.ess_min=1000"),
    "reflection_positivity": ("sampler.samples=2500",),
    "deep_nnqm": ("sampler.samples=2500",),
    "kkl": ("sampler.samples=2500",),
    # fits: the posterior sd, not the MCSE, is the guard's yardstick, so shorter chains suffice
    # (infer_coupling as shipped took 686 s under load in the guard: NUTS through the transfer matrix)
    "infer_coupling": ("sampler.chains=2", "sampler.warmup=150", "sampler.samples=250"),
    "fit_spectrum": ("sampler.warmup=300", "sampler.samples=500"),
    "free_particle": ("sampler.samples=500",),
    "cosnet_hyperparameters": ("sampler.warmup=200", "sampler.samples=300"),
}

#: per job: (label, overrides) of the couplings a user would try, the shipped one first
#: (double well λ(x² − f²)², m = 1/2: f² ≤ 2, barrier λf⁴ ≤ 4; deeper wells are :data:`TOO_DEEP`)
GRID: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "harmonic": [("omega=1", ()), ("omega=0.5", ("model.potential=[0, 0, 0.125]",)),
                 ("omega=2", ("model.potential=[0, 0, 2.0]",))],
    "anharmonic": [("lambda=1", ()), ("lambda=0.1", ("model.potential=[0, 0, 0.5, 0, 0.1]",)),
                   ("lambda=4", ("model.potential=[0, 0, 0.5, 0, 4.0]",))],
    "double_well": [("f2=2", ()), ("f2=1.5", ("model.potential=[2.25, 0, -3.0, 0, 1.0]",)),
                    ("f2=1", ("model.potential=[1.0, 0, -2.0, 0, 1.0]",))],
    "ground_state": [("lambda=1", ()), ("lambda=0.3", ("model.potential=[0, 0, 0.5, 0, 0.3]",)),
                     ("lambda=3", ("model.potential=[0, 0, 0.5, 0, 3.0]",))],
    "free_particle": [("x_fin=0.5", ()), ("x_fin=0", ("model.x_fin=0.0",)), ("beta=2", ("model.beta=2.0",))],
    "reflection_positivity": [("gamma=1", ()), ("gamma=0.5", ("model.rate=0.5",)), ("gamma=2", ("model.rate=2.0",))],
    "deep_nnqm": [("sigma_w=1", ()), ("sigma_w=0.5", ("model.sigma_w=0.5",)), ("sigma_w=2", ("model.sigma_w=2.0",))],
    "kkl": [("rate=1", ()), ("rate=0.5", ("model.rate=0.5",)), ("rate=2", ("model.rate=2.0",))],
    "cosnet_correlators": [("sigma_b=1", ()), ("sigma_b=0.5", ("model.sigma_b=0.5",)),
                           ("sigma_b=2", ("model.sigma_b=2.0",))],
    "particle_3d": [("lambda=0.1", ()), ("lambda=0", ("model.potential=[0, 0, 0.5]",)),
                    ("lambda=1", ("model.potential=[0, 0, 0.5, 0, 1.0]",))],
    "phi4_1plus1": [("g=0.1 L=3", ()), ("g=0 L=4", ("model.potential=[0, 0, 0.5]", "model.sites=4")),
                    ("g=0.5 L=2", ("model.potential=[0, 0, 0.5, 0, 0.5]", "model.sites=2"))],
}

#: a double well too deep for NUTS to tunnel between the wells (barrier 6.25, f² = 2.5): the
#: chains stay in different wells and the run must fail its gates (R-hat of the path mean)
TOO_DEEP = ("double_well", ("model.potential=[6.25, 0, -5.0, 0, 1.0]",), 2)

_OUT = Path(tempfile.mkdtemp(prefix="nnqm_jobgrid_"))


def run_job(job: str, overrides: tuple[str, ...] = (), seed: int = 0) -> tuple[int, dict]:
    """Run ``inference/JOB.toml`` at CI size with ``overrides`` and ``seed`` (once per session).

    Returns
    -------
    (int, dict)
        The exit code ``nnqm run`` would give (0 gates passed, 3 failed) and ``summary.json``
        (empty when nothing was sampled).
    """
    return _run(job, tuple(overrides), seed)


@cache
def _run(job: str, overrides: tuple[str, ...], seed: int) -> tuple[int, dict]:
    spec = load_job(ROOT / "inference" / f"{job}.toml",
                    [*CI_SIZE.get(job, ()), *overrides, f"sampler.seed={seed}"])
    out = _OUT / f"{job}-{len(list(_OUT.iterdir()))}"
    try:
        result = runner(spec.task)(spec, jax.random.key(seed), False, None)
    except NumericalTrouble:
        return 3, {}
    report.write_run(out, spec, seed=seed, elapsed_s=0.0, diagnostics=result.diagnostics.to_dict(),
                     observables=result.observables, extra=result.extra, datatree=result.datatree, figures={})
    # strictjson.loads: a strict reader's parse (jq, JavaScript), so every shipped job's summary is checked
    return (0 if result.diagnostics.passed else 3), strictjson.loads((out / "summary.json").read_text())

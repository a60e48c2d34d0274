"""The shipped sampling jobs pass their gates over the couplings and seeds a user would try
(issue #10, part 5).

Per job three couplings (:data:`jobgrid.GRID`: the shipped one and one on either side), each with
its own seed (0 for the shipped coupling, whose run the standing guard reuses), so the grid spans
couplings and seeds at three runs a job. ``ground_state`` also runs the issue's own case
(V = x²/2 + 0.3 x⁴, seed 0: 10 divergent transitions with the step network) at a second seed.
Exit 0 means every gate passed (R-hat, ESS, divergences, tree depth, E-BFMI, plateau). A double
well deeper than the grid's (f² = 2.5) is beyond NUTS, which cannot tunnel there: that run must
fail its gates, and does.
"""

from __future__ import annotations

import pytest
from jobgrid import GRID, TOO_DEEP, run_job

POINTS = [(job, label, overrides, seed) for job, row in GRID.items()
          for seed, (label, overrides) in enumerate(row)]
POINTS.append(("ground_state", GRID["ground_state"][1][0], GRID["ground_state"][1][1], 0))


@pytest.mark.parametrize(("job", "label", "overrides", "seed"), POINTS,
                         ids=[f"{j}-{lab}-seed{s}" for j, lab, _, s in POINTS])
def test_job_passes_its_gates(job, label, overrides, seed):
    rc, summary = run_job(job, overrides, seed)
    failures = summary.get("diagnostics", {}).get("failures", ["numerical trouble: nothing sampled"])
    assert rc == 0, f"{job} {label} seed {seed}: exit {rc}: " + "; ".join(failures)


def test_double_well_too_deep_to_tunnel_fails_its_gates():
    """f² = 2.5 (barrier 6.25 at β = 16): NUTS does not move between the wells, and the run says so
    (exit 3, R-hat of the path mean) instead of reporting a one-well ⟨x⟩ (measured: R-hat 1.43)."""
    rc, summary = run_job(*TOO_DEEP)
    assert rc == 3
    assert any(f.startswith("R-hat") and "mean" in f for f in summary["diagnostics"]["failures"])


def test_deep_nnqm_weak_network_measures_every_level():
    """σ_w = 0.5 (the grid's run): y = f(OU) has ⟨y⟩ ≈ −0.94 and sd ≈ 0.07. Every GEVP level has a
    plateau and meets its exact nγ within 4 MCSE + its stated systematic (the effective mass of the
    exact correlators over the plateau window). With one window mean per operator the open-path
    disconnected part did not cancel each path's mean and no level had a plateau."""
    job, (label, overrides) = "deep_nnqm", GRID["deep_nnqm"][1]
    rc, summary = run_job(job, overrides, 1)
    assert rc == 0 and label == "sigma_w=0.5"
    for g in summary["observables"]["gaps"]:
        assert g["value"] is not None, g
        assert abs(g["value"] - g["exact"]) <= 4 * g["mcse"] + g["systematic"], g

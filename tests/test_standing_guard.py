"""Standing guard: every shipped job, every number that has an exact value (issue #10, part 7).

Each job in inference/*.toml runs at CI size (:mod:`jobgrid`, shared with the job grid so no job
runs twice) and every entry of its ``summary.json`` observables, found by walking the JSON, that
carries an ``exact`` value is compared with it element by element:

.. math:: |\\mathrm{value} - \\mathrm{exact}| \\le 5\\sqrt{\\mathrm{MCSE}^2 + \\mathrm{systematic}^2},

with the entry's ``systematic`` where it states one (else 0). For fits the posterior mean is the
value and the posterior sd replaces the MCSE. A new job or a new observable is covered without
touching this file. A scalar value that is missing (``None``/NaN) beside an exact value fails
unless the entry says why (a ``note``, e.g. a gap without a plateau, which the gates judge); an
undefined point of a curve (an effective mass where the correlator has sunk into its noise) is
not an estimate and is not compared.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from jobgrid import JOBS, run_job

from nnqm_ppl.observables import wavefunction

#: allowed distance in units of the combined error
SIGMAS = 5.0


def _entries(node, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every dict under ``node`` (depth first) that has both a ``value`` and an ``exact``."""
    if isinstance(node, dict):
        if "value" in node and node.get("exact") is not None:
            yield path, node
        for key, child in node.items():
            yield from _entries(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _entries(child, f"{path}[{i}]")


def _float(x) -> np.ndarray:
    return np.asarray(np.nan if x is None else x, dtype=float)


def violations(summary: dict) -> list[str]:
    """One line per element of an observable that is more than 5 combined errors off its exact value."""
    width = "sd" if summary.get("task") == "fit" else "mcse"
    out = []
    for path, entry in _entries(summary.get("observables", {})):
        value = _float([_float(v) for v in entry["value"]] if isinstance(entry["value"], list) else entry["value"])
        exact = _float(entry["exact"])
        err = _float(entry.get(width))
        sys_ = _float(entry.get("systematic", 0.0))
        value, exact, err, sys_ = np.broadcast_arrays(value, exact, err, sys_)
        bound = SIGMAS * np.hypot(err, sys_)
        bad = ~(np.abs(value - exact) <= bound)  # NaN fails ...
        if isinstance(entry["value"], list) or "note" in entry:  # ... unless undefined on a curve, or explained
            bad &= np.isfinite(value)
        for i in np.flatnonzero(bad):
            where = f"{path}[{i}]" if value.ndim else path
            out.append(f"{where}: value {value.flat[i]:.6g}, exact {exact.flat[i]:.6g}, "
                       f"{width} {err.flat[i]:.3g}, systematic {sys_.flat[i]:.3g} "
                       f"(|Δ| = {abs(value.flat[i] - exact.flat[i]) / max(bound.flat[i], 1e-300):.2f} × bound)")
    return out


def test_violations_are_found():
    """The walker reaches nested entries and curves and flags what is off, missing or NaN."""
    summary = {"task": "sample", "observables": {
        "x2": {"value": 1.0, "mcse": 0.1, "exact": 1.6},
        "ok": {"value": 1.0, "mcse": 0.1, "exact": 1.6, "systematic": 0.2},
        "curve": {"value": [1.0, 2.0, None], "mcse": [0.1, 0.1, 0.1], "exact": [1.0, 3.0, 1.0]},
        "gaps": [{"value": 2.0, "mcse": 0.01, "exact": 1.0}],
        "no_exact": {"value": 5.0, "mcse": 0.1, "exact": None},
        "missing": {"value": None, "mcse": None, "exact": 1.0},
        "explained": {"value": None, "mcse": None, "exact": 1.0, "note": "no plateau"},
    }}
    found = violations(summary)
    assert [line.split(":")[0] for line in found] == ["x2", "curve[1]", "gaps[0]", "missing"]
    fit = {"task": "fit", "observables": {"E1": {"value": 1.0, "mcse": 1e-4, "sd": 0.1, "exact": 1.3}}}
    assert violations(fit) == []


def test_empty_histogram_bin_has_the_mcse_of_one_count():
    """A bin no draw reached is not known to be empty to better than one count in n draws
    (ArviZ gives MCSE 0 for its constant series, which made a 1.3-count bin a 'violation')."""
    x = np.zeros((2, 50, 1))
    x[0, 0, 0] = 0.75  # one draw in bin [0.5, 1); bin [-1, -0.5) empty
    dens = wavefunction.psi0(x, np.array([-1.0, -0.5, 0.0, 0.5, 1.0]))
    assert dens["value"][0] == 0.0 and dens["mcse"][0] == pytest.approx(1.0 / (100 * 0.5))
    assert dens["mcse"][3] >= 1.0 / (100 * 0.5)


@pytest.mark.parametrize("job", JOBS)
def test_shipped_job_agrees_with_every_exact_value(job):
    rc, summary = run_job(job)
    assert summary, f"{job}: nothing was sampled (exit {rc})"
    assert any(True for _ in _entries(summary["observables"])) or summary["task"] == "fit", \
        f"{job}: no observable with an exact value"
    found = violations(summary)
    assert not found, f"{job}: " + "; ".join(found)

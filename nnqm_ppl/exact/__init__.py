"""Exact results to check the Monte Carlo against.

- :mod:`~nnqm_ppl.exact.diagonalize`: the continuum theory (sinc-DVR diagonalisation).
- :mod:`~nnqm_ppl.exact.transfer`: the same lattice (a, β, boundary) as the sampled path integral.
- :mod:`~nnqm_ppl.exact.window`: its averages over the Monte Carlo's window of an open path.
- :mod:`~nnqm_ppl.exact.harmonic`: closed forms for the harmonic oscillator.
- :mod:`~nnqm_ppl.exact.amplitude`: transition amplitudes K(x_i, x_f; β), lattice and continuum.

:func:`path_integral_exact` collects both for reports and ``nnqm exact``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnqm_ppl.exact.amplitude import continuum_log_amplitude, lattice_log_amplitude
from nnqm_ppl.exact.diagonalize import Spectrum, diagonalize
from nnqm_ppl.exact.transfer import TransferMatrix, transfer_matrix
from nnqm_ppl.exact.window import path_sites, window_exact
from nnqm_ppl.physics import Lattice, Potential

__all__ = [
    "Spectrum",
    "TransferMatrix",
    "diagonalize",
    "transfer_matrix",
    "path_integral_exact",
    "PLOT_POINTS",
]

#: number of points of the common grid of ``psi0`` and ``psi0_squared``
PLOT_POINTS = 101


#: order of the keys in the lattice entry (as in the continuum entry)
_ORDER = ("window", "x2", "x4", "E0", "gap", "gaps", "correlator", "correlator_connected", "uncertainty",
          "commutator", "p2", "psi0", "psi0_squared", "amplitude")


def _curve(x: Any, value: Any) -> dict[str, list[float]]:
    return {"x": np.asarray(x).tolist(), "value": np.asarray(value).tolist()}


def _floats(a: Any) -> list[float]:
    return [float(v) for v in np.asarray(a)]


def path_integral_exact(
    lattice: Lattice, potential: Potential, *, tm: TransferMatrix | None = None, spectrum: Spectrum | None = None
) -> dict[str, dict[str, Any]]:
    """Exact lattice and continuum values of the path-integral observables (JSON-ready).

    ``"lattice"``: the transfer matrix on the same lattice (a, β, boundary), for exactly what the
    Monte Carlo estimates. Periodic: every site is equivalent; ``correlator`` is ⟨x_n x_{n+k}⟩
    for k = 0..N. Open boundaries (``fixed``, ``half_line``): the ensemble is not translation
    invariant, and every value is the average over the Monte Carlo's window of interior sites
    (``window``: its first and last site), site by site and pair by pair
    (:func:`~nnqm_ppl.exact.window.window_exact`); ``correlator`` is ⟨x_j x_{j+k}⟩ averaged over
    the pairs in the window, k = 0..M−1. ``correlator_connected`` subtracts ⟨x_j⟩⟨x_{j+k}⟩
    likewise (periodic: ⟨x⟩²). ``E0`` is the virial estimator ⟨V + xV'/2⟩ at the lattice's β;
    ``uncertainty`` is sqrt(⟨x²⟩ - ⟨x⟩²)·sqrt(⟨p²⟩) with the point-split ⟨p²⟩;
    ``commutator`` is the point-split m⟨x_n(x_{n+1} - x_n) - (x_n - x_{n-1})x_n⟩/a
    (= -ħ + a⟨xV'⟩). ``psi0`` is the density of y = x_0 on a half line, else the
    transfer-matrix ground state φ_0 normalised to ∫φ_0 = 1; ``psi0_squared`` is the exact
    density of a site (open boundaries: averaged over the window).

    ``"continuum"``: the diagonalised Hamiltonian; thermal at β for the periodic lattice, the
    ground state otherwise (the open-boundary correlator is ⟨0|x e^{-τ(H-E_0)/ħ} x|0⟩ at
    τ = k a; ``correlator_connected`` subtracts ⟨x⟩²). ``commutator`` is its a → 0 limit -ħ;
    ``psi0`` = ψ_0/∫ψ_0 and ``psi0_squared`` the density of x; ``ground_state`` holds the T = 0
    values ``E0``, ``x2``, ``x4`` and ``uncertainty``.

    Both share ``gap`` (E_1 - E_0), ``gaps`` (the first three) and one grid for the curves.

    With fixed ends both also hold ``amplitude``, K(x_ini, x_fin; β) = ⟨x_fin|e^{−βH/ħ}|x_ini⟩:
    [T^N] on the lattice, the free or Mehler kernel or the diagonalisation in the continuum
    (:mod:`~nnqm_ppl.exact.amplitude`).

    A constant V (the free particle, fixed ends only) has no ground state and no discrete
    spectrum: both entries hold the window values only (no ``gap``, ``gaps``, ``psi0``,
    ``psi0_squared``), and they are equal: the interior sites are the Brownian bridge at the
    times τ_n = na exactly (Gaussian kernels compose without error), the point-split
    ⟨p²⟩ = mħ/β − (m(x_fin − x_ini)/β)² does not depend on a, and the commutator is −ħ.

    Parameters
    ----------
    lattice : Lattice
    potential : Potential
    tm : TransferMatrix, optional
        ``transfer_matrix(lattice, potential)`` if the caller has built it already.
    spectrum : Spectrum, optional
        ``diagonalize(potential, m, ħ, beta=β if periodic else None)`` likewise.

    Returns
    -------
    dict
        ``{"lattice": {...}, "continuum": {...}}`` with keys ``x2``, ``x4``, ``E0``, ``gap``,
        ``gaps``, ``correlator``, ``correlator_connected``, ``uncertainty``, ``commutator``,
        ``p2``, ``psi0``, ``psi0_squared`` (curves as ``{"x": [...], "value": [...]}``) and, for
        an open lattice, ``window``.
    """
    m, hbar = lattice.mass, lattice.hbar
    periodic = lattice.boundary == "periodic"
    tm = transfer_matrix(lattice, potential) if tm is None else tm
    if not potential.confining:  # the free bridge: window values, the same in the continuum
        win = window_exact(tm, tm.x)
        lat = {k: win[k] for k in ("x2", "x4", "E0", "uncertainty", "commutator", "p2")} | {
            "window": [win["sites"][0], win["sites"][-1]],
            "correlator": _floats(win["correlator"]),
            "correlator_connected": _floats(win["correlator_connected"]),
            "amplitude": _amplitude(lattice, potential, tm),
        }
        lat = {k: lat[k] for k in _ORDER if k in lat}
        return {"lattice": lat, "continuum": {k: v for k, v in lat.items() if k != "window"}}
    spec = diagonalize(potential, m, hbar, beta=lattice.beta if periodic else None) if spectrum is None else spectrum

    ks = tm.correlator_separations() if periodic else np.arange(len(path_sites(tm)))
    dens0 = spec.density(spec.x)
    keep = np.nonzero(np.asarray(dens0) > 1e-10 * float(np.max(dens0)))[0]
    grid = np.linspace(spec.x[keep[0]], spec.x[keep[-1]], PLOT_POINTS)

    psi_lat = tm.density(grid, site=0) if lattice.boundary == "half_line" else tm.ground_state(grid)
    gaps_lat, gaps_con = tm.gaps(3), spec.gaps(3)
    if periodic:
        corr = tm.correlator(ks)
        lat = {
            "x2": tm.expect(lambda x: x**2),
            "x4": tm.expect(lambda x: x**4),
            "E0": tm.virial_energy(),
            "correlator": _floats(corr),
            "correlator_connected": _floats(corr - tm.expect(lambda x: x) ** 2),
            "uncertainty": tm.uncertainty(),
            "commutator": tm.commutator(),
            "p2": tm.p2(),
            "psi0_squared": _curve(grid, tm.density(grid)),
        }
    else:
        win = window_exact(tm, grid)
        lat = {k: win[k] for k in ("x2", "x4", "E0", "uncertainty", "commutator", "p2")} | {
            "window": [win["sites"][0], win["sites"][-1]],
            "correlator": _floats(win["correlator"]),
            "correlator_connected": _floats(win["correlator_connected"]),
            "psi0_squared": _curve(grid, win["density"]),
        }
    lat |= {"gap": float(gaps_lat[0]), "gaps": _floats(gaps_lat), "psi0": _curve(grid, psi_lat)}
    if lattice.boundary == "fixed":
        lat["amplitude"] = _amplitude(lattice, potential, tm)
    lat = {k: lat[k] for k in _ORDER if k in lat}

    beta = lattice.beta if periodic else None
    psi0 = spec.wavefunction(0, grid)
    x2, p2 = spec.expect(lambda x: x**2, beta), spec.p2(beta)
    mean = spec.expect(lambda x: x, beta)
    corr_con = spec.correlator(ks * lattice.a, beta if periodic else np.inf)
    x2_0, mean_0 = spec.expect(lambda x: x**2), spec.expect(lambda x: x)
    con = {
        "x2": x2,
        "x4": spec.expect(lambda x: x**4, beta),
        "E0": spec.energy(beta),
        "gap": float(gaps_con[0]),
        "gaps": _floats(gaps_con),
        "correlator": _floats(corr_con),
        "correlator_connected": _floats(corr_con - mean**2),
        "uncertainty": float(np.sqrt((x2 - mean**2) * p2)),
        "commutator": -hbar,
        "p2": p2,
        "psi0": _curve(grid, psi0 / (np.sqrt(spec.dx) * np.sum(spec.vectors[:, 0]))),
        "psi0_squared": _curve(grid, spec.density(grid, beta)),
        "ground_state": {
            "E0": float(spec.energies[0]),
            "x2": x2_0,
            "x4": spec.expect(lambda x: x**4),
            "uncertainty": float(np.sqrt((x2_0 - mean_0**2) * spec.p2())),
        },
    }
    if lattice.boundary == "fixed":
        con["amplitude"] = float(np.exp(continuum_log_amplitude(potential, lattice.x_ini, lattice.x_fin,
                                                                lattice.beta, m, hbar)[0]))
    return {"lattice": lat, "continuum": con}


def _amplitude(lattice: Lattice, potential: Potential, tm: TransferMatrix) -> float:
    """K(x_ini, x_fin; β) on a fixed-ends lattice (:func:`~nnqm_ppl.exact.amplitude.lattice_log_amplitude`)."""
    return float(np.exp(lattice_log_amplitude(lattice, potential, tm=tm)[0]))

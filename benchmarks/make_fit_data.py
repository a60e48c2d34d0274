"""Write the small data files of the fit jobs in ``inference/data/`` (deterministic, seed 0).

- ``anharmonic_correlator.npz``: the exact lattice correlator of V = x²/2 + x⁴ (β = 16,
  a = 0.25) at τ = 0 .. β/2 with a correlated Gaussian error (1% relative, correlation
  0.6^{|i−j|}), one noisy draw; arrays ``tau``, ``mean``, ``cov``, ``beta`` and
  ``truth_energies`` (E_n − E_0 of the odd states n = 1, 3, 5 that x couples to).
- ``coupling_correlator.csv``: V = x²/2 + 0.4 x⁴ at β = 8, a = 0.25, τ = 0 .. 4, 0.5% errors.
- ``cosnet_g2.csv``: Cos-net G2(r) with σ_a = 1.3, σ_b = 0.8, d = 2, r = 0 .. 2.4, 1% errors.

Run: ``python benchmarks/make_fit_data.py`` (prints the true values the jobs should recover).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnqm_ppl.exact.transfer import transfer_matrix
from nnqm_ppl.physics import Lattice, Potential
from nnqm_ppl.spec import NeuralFieldSpec
from nnqm_ppl.theories import neural_field as nf

OUT = Path(__file__).resolve().parent.parent / "inference" / "data"


def _csv(path: Path, tau: np.ndarray, value: np.ndarray, error: np.ndarray) -> None:
    rows = "\n".join(f"{t:.10g},{v:.12g},{e:.6g}" for t, v, e in zip(tau, value, error, strict=True))
    path.write_text("tau,value,error\n" + rows + "\n")


def main() -> None:
    """Write the three data files and print the truths."""
    rng = np.random.default_rng(0)
    OUT.mkdir(parents=True, exist_ok=True)

    lat = Lattice(beta=16.0, slices=64)
    tm = transfer_matrix(lat, Potential.from_coeffs([0, 0, 0.5, 0, 1.0]))
    k = np.arange(33)
    g = tm.correlator(k)
    sd = 0.01 * g
    cov = np.outer(sd, sd) * 0.6 ** np.abs(k[:, None] - k[None, :])
    mean = rng.multivariate_normal(g, cov)
    np.savez(OUT / "anharmonic_correlator.npz", tau=lat.a * k, mean=mean, cov=cov, beta=lat.beta,
             truth_energies=tm.gaps(5)[[0, 2, 4]])
    print("anharmonic E_n - E_0 of the states x couples to (n = 1, 3, 5):", tm.gaps(5)[[0, 2, 4]])

    lat = Lattice(beta=8.0, slices=32)
    tm = transfer_matrix(lat, Potential.from_coeffs([0, 0, 0.5, 0, 0.4]))
    k = np.arange(17)
    g = tm.correlator(k)
    err = 0.005 * g
    _csv(OUT / "coupling_correlator.csv", lat.a * k, g + err * rng.normal(size=g.shape), err)
    print("coupling: c4 = 0.4")

    spec = NeuralFieldSpec(architecture="cosnet", width=10, dim=2, sigma_a=1.3, sigma_b=0.8)
    r = np.linspace(0.0, 2.4, 13)
    g = nf.g2(spec, np.zeros((r.size, 2)), np.stack([r, np.zeros_like(r)], -1))
    err = 0.01 * g
    _csv(OUT / "cosnet_g2.csv", r, g + err * rng.normal(size=g.shape), err)
    print("cosnet: sigma_a = 1.3, sigma_b = 0.8")


if __name__ == "__main__":
    main()

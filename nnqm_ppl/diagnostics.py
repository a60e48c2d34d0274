"""Gates that decide whether a run can be trusted, with advice a physicist can act on.

R-hat (rank-normalised, split), bulk and tail ESS and E-BFMI come from ArviZ; divergences and
tree-depth saturation are read from the sampler's ``sample_stats``. The gates are applied to the
physics observables' per-draw series (⟨x²⟩ per path, C(β/4), …), which is what the reported
numbers depend on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr
from arviz_stats.base import array_stats

from nnqm_ppl.spec import GatesSpec

__all__ = ["Diagnostics", "check_gates"]

#: quantiles whose ESS is the tail ESS (ArviZ's convention; arviz-stats 1.3 needs it passed explicitly)
TAIL_PROB = (0.05, 0.95)

ADVICE = {
    "rhat": "R-hat high: chains disagree — run longer, or check for several minima (more chains, "
    "a different network such as 'fourier').",
    "ess": "ESS low: draws are strongly autocorrelated — run more samples, or use the 'fourier' "
    "network (Fourier acceleration) for long paths.",
    "ess_exact": "ESS low: the draws are independent, so simply ask for more of them "
    "(networks, or sampler.samples).",
    "divergences": "divergences: raise sampler.target_accept (e.g. 0.95) or use the 'fourier' network.",
    "tree_depth": "tree depth saturated: raise sampler.max_tree_depth or use the 'fourier' network, "
    "which whitens the stiff kinetic term.",
    "bfmi": "E-BFMI low: the momentum resampling explores energy poorly — reparametrise "
    "(the 'fourier' network) or run longer warmup.",
}


@dataclass
class Diagnostics:
    """Outcome of the gates (JSON-ready through :meth:`to_dict`)."""

    passed: bool
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    tree_depth_fraction: float
    bfmi_min: float | None
    failures: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain dict for ``summary.json``."""
        return asdict(self)


def check_gates(
    series: dict[str, np.ndarray],
    gates: GatesSpec,
    sample_stats: xr.Dataset | None = None,
    ess_scale: float = 1.0,
    markov: bool = True,
) -> Diagnostics:
    """Apply the job's gates to per-draw observable series.

    Parameters
    ----------
    series : dict of ndarray, each (chain, draw, ...)
        The observables whose means are reported.
    gates : GatesSpec
        Thresholds (``rhat_max``, ``ess_min``, ``divergences_max``, ``tree_depth_max_fraction``).
    sample_stats : xarray.Dataset, optional
        MCMC sampler statistics (``diverging``, ``reached_max_tree_depth``, ``energy``).
    ess_scale : float
        Draws represented by one entry of a series (the chunk size when the series are chunk means
        of i.i.d. networks), so that ESS is reported in draws.
    markov : bool
        Whether the draws come from Markov chains. Exact (independent) draws are converged by
        construction: their split R-hat is reported but not gated, since for i.i.d. series it
        only measures noise.

    Returns
    -------
    Diagnostics
    """
    rhats, bulks, tails = [], [], []
    for v in series.values():
        a = np.asarray(v, dtype=float)
        a = a.reshape(a.shape[0], a.shape[1], -1)
        # constant components (e.g. a fixed end of the path) carry no information
        keep = np.ptp(a, axis=(0, 1)) > 0
        if not keep.any():
            continue
        a = a[..., keep]
        if a.shape[0] == 1:  # one chain: split R-hat over its two halves
            half = a.shape[1] // 2
            a = np.stack([a[0, :half], a[0, half : 2 * half]])
        rhats.append(np.max(array_stats.rhat(a, chain_axis=0, draw_axis=1)))
        bulks.append(np.min(array_stats.ess(a, chain_axis=0, draw_axis=1, method="bulk")) * ess_scale)
        tails.append(np.min(array_stats.ess(a, chain_axis=0, draw_axis=1, method="tail", prob=TAIL_PROB)) * ess_scale)
    rhat_max = float(np.max(rhats)) if rhats else 1.0
    ess_bulk = float(np.min(bulks)) if bulks else 0.0
    ess_tail = float(np.min(tails)) if tails else 0.0
    divergences, depth_frac, bfmi_min = 0, 0.0, None
    if sample_stats is not None:
        if "diverging" in sample_stats:
            divergences = int(sample_stats["diverging"].sum())
        if "reached_max_tree_depth" in sample_stats:
            depth_frac = float(sample_stats["reached_max_tree_depth"].mean())
        if "energy" in sample_stats:
            bfmi_min = float(np.min(array_stats.bfmi(sample_stats["energy"].values, chain_axis=0, draw_axis=1)))
    failures: list[str] = []
    advice: list[str] = []

    def fail(kind: str, msg: str) -> None:
        failures.append(msg)
        advice.append(ADVICE[kind])

    if markov and (not np.isfinite(rhat_max) or rhat_max > gates.rhat_max):
        fail("rhat", f"R-hat {rhat_max:.4f} > {gates.rhat_max}")
    if not min(ess_bulk, ess_tail) >= gates.ess_min:
        fail("ess" if markov else "ess_exact", f"ESS (bulk {ess_bulk:.0f}, tail {ess_tail:.0f}) < {gates.ess_min:.0f}")
    if divergences > gates.divergences_max:
        fail("divergences", f"{divergences} divergent transitions > {gates.divergences_max}")
    if depth_frac > gates.tree_depth_max_fraction:
        fail("tree_depth", f"{100 * depth_frac:.1f}% of transitions hit the maximum tree depth")
    if bfmi_min is not None and bfmi_min < 0.3:
        fail("bfmi", f"E-BFMI {bfmi_min:.2f} < 0.3")
    return Diagnostics(
        passed=not failures,
        rhat_max=rhat_max,
        ess_bulk_min=ess_bulk,
        ess_tail_min=ess_tail,
        divergences=divergences,
        tree_depth_fraction=depth_frac,
        bfmi_min=bfmi_min,
        failures=failures,
        advice=advice,
    )

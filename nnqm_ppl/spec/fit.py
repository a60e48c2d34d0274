"""The ``fit`` task's data classes and vocabularies.

They sit in the spec layer, not beside the task, because the fitting layer (below the tasks)
takes a :class:`FitTask` and its :class:`Prior` objects as arguments; the reader that builds them
from a job lives with the task (:mod:`nnqm_ppl.tasks.fit_schema`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FIT_CRITERIA", "FIT_KINDS", "NETWORK_FIT_PARAMETERS", "PRIOR_DISTS", "FitTask", "Prior"]

FIT_KINDS = ("spectral", "coupling", "network")
PRIOR_DISTS = ("lognormal", "normal")
FIT_CRITERIA = ("loo",)

#: (architecture, observable) -> the hyperparameters a ``network`` fit may infer (closed forms in
#: :func:`nnqm_ppl.fitting.network_correlator`).
NETWORK_FIT_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("cosnet", "G2"): ("sigma_a", "sigma_b"),
    ("cosnet", "G4c"): ("width", "sigma_a", "sigma_b"),
    ("cauchy", "G2"): ("sigma_a", "mass"),
    ("free_scalar", "G2"): ("sigma_a", "mass"),
}


@dataclass(frozen=True)
class Prior:
    """A prior: ``lognormal`` (``loc`` is the median, ``scale`` the sd of the log) or ``normal``."""

    dist: str
    loc: float
    scale: float


@dataclass(frozen=True)
class FitTask:
    """Task ``fit``: a Bayesian fit of a correlator (see :mod:`nnqm_ppl.fitting`).

    Attributes
    ----------
    data : str
        Absolute path of the data (CSV, NPZ, netCDF or an ``nnqm run`` directory).
    kind : str
        ``spectral`` (Σ_n A_n cosh-like terms), ``coupling`` (potential coefficients through the
        transfer matrix) or ``network`` (neural-field hyperparameters from closed forms).
    where : str
        The file or option that named the data (for error messages).
    states : tuple of int
        Spectral: the candidate numbers of states K; the information criterion picks one.
    criterion : str
        ``loo``: PSIS-LOO expected log predictive density (ArviZ) of the whitened data.
    tau_min, tau_max : float or None
        Fit range in τ.
    observable : str
        Network: ``G2`` or ``G4c``.
    parameters : tuple of str
        Coupling: coefficients ``c<k>`` of x^k; network: hyperparameter names.
    priors : dict
        Name -> :class:`Prior` (spectral: ``energy``, ``gap``, ``amplitude``).
    box_scale : float
        Coupling: widening of the quadrature box beyond the prior range's semiclassical box.
    """

    data: str
    kind: str
    where: str
    states: tuple[int, ...] = (1,)
    criterion: str = "loo"
    tau_min: float | None = None
    tau_max: float | None = None
    observable: str = "G2"
    parameters: tuple[str, ...] = ()
    priors: dict[str, Prior] = field(default_factory=dict)
    box_scale: float = 1.5

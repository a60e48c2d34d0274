"""The :class:`~nnqm_ppl.networks.neurons.network.Network` a ``neural_field`` model file describes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from nnqm_ppl.networks.neurons.cosine import cauchy, cos_theta, cosnet, free_scalar, ib_cosnet, nnft_ho
from nnqm_ppl.networks.neurons.gaussnet import gaussnet
from nnqm_ppl.networks.neurons.mlp import mlp
from nnqm_ppl.networks.neurons.network import Network, a_distribution

if TYPE_CHECKING:
    from nnqm_ppl.spec import NeuralFieldSpec

__all__ = ["network_from_spec"]


def network_from_spec(spec: NeuralFieldSpec) -> Network:
    """Build the :class:`Network` a ``neural_field`` model file describes.

    Parameters
    ----------
    spec : NeuralFieldSpec
        ``architecture`` selects the builder; ``a_prior``/``a_modes`` select P(a) (not used by
        ``cos_theta``, whose weights are fixed). ``nnft_ho`` takes ω = ``mass``.

    Returns
    -------
    Network
    """
    s = spec
    scale = s.sigma_a / math.sqrt(2.0) if s.architecture == "gaussnet" else s.sigma_a
    a = a_distribution(s.width, scale, s.a_prior, s.a_modes)
    builders: dict[str, Callable[[], Network]] = {
        "cosnet": lambda: cosnet(s.width, s.dim, s.sigma_a, s.sigma_b, a),
        "gaussnet": lambda: gaussnet(s.width, s.dim, s.sigma_a, s.sigma_b, s.sigma_c, a),
        "free_scalar": lambda: free_scalar(s.width, s.dim, s.mass, s.cutoff, s.sigma_a, a),
        "cauchy": lambda: cauchy(s.width, s.mass, s.sigma_a, a),
        "mlp": lambda: mlp(s.width, s.dim, s.activation, s.sigma_a, s.sigma_w, s.sigma_b, a),
        "nnft_ho": lambda: nnft_ho(s.width, s.mass, s.cutoff, s.sigma_a, a),
        "cos_theta": lambda: cos_theta(s.width),
        "ib_cosnet": lambda: ib_cosnet(s.width, s.dim, s.sigma_a, s.sigma_b, s.epsilon, a),
    }
    if s.architecture not in builders:
        raise ValueError(f"unknown architecture {s.architecture!r}")
    return builders[s.architecture]()

"""The one shape of every network of the suite: a NumPyro model, a pure forward map, an exact sampler.

A network with random parameters θ is a random function x_θ. Whatever its architecture — a field
of random neurons (:class:`~nnqm_ppl.networks.neurons.Network`), a lattice path network
(:class:`~nnqm_ppl.networks.paths.PathNetwork`), a Karhunen–Loève network
(:class:`~nnqm_ppl.networks.kkl.KarhunenLoeve`) or a random network on an input process
(:class:`~nnqm_ppl.networks.deep.DeepNetwork`) — it offers

- ``model(*inputs)``: a NumPyro model in which every parameter is a ``numpyro.sample`` site
  (a prior, with the weight ``numpyro.factor`` of a path integral where there is one) and the
  output x_θ(inputs) is recorded as the deterministic site :data:`OUTPUT`;
- ``forward(params, *inputs)``: the pure output x_θ(inputs), vectorised over any leading batch of
  draws (``params``: the parameters as the model draws them — a dict by site name, or the one
  array θ of a path network, whose inputs are its lattice sites);
- ``exact_sampler()``: ``draw(key, n) -> params``, n exact i.i.d. draws of the parameters from the
  model's distribution, in the form ``forward`` takes, where such a sampler exists; None otherwise
  (an interacting path integral, which needs MCMC).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import jax
import numpyro
from numpyro import handlers

__all__ = ["OUTPUT", "ExactSampler", "RandomNetwork", "record_output"]

#: The deterministic site under which a network's model records its output.
OUTPUT = "x"

#: ``draw(key, n) -> params``: n exact i.i.d. draws of a network's parameters.
ExactSampler = Callable[[jax.Array, int], Any]


@runtime_checkable
class RandomNetwork(Protocol):
    """A network with random parameters (module docstring): model, forward, exact sampler."""

    def model(self, *inputs: Any) -> None:
        """NumPyro model over the parameters, recording the output as the site :data:`OUTPUT`."""
        ...

    def forward(self, params: Any, /, *inputs: Any) -> jax.Array:
        """The pure output of the network with parameters ``params`` at ``inputs``."""
        ...

    def exact_sampler(self) -> ExactSampler | None:
        """Exact i.i.d. draws of the parameters where they exist, else None."""
        ...


def record_output(prior: Callable[[], None], forward: Callable[..., jax.Array], *inputs: Any) -> None:
    """The body of a network's ``model``: run ``prior`` and record ``forward(params, *inputs)``.

    ``params`` are the values of the prior's sample and deterministic sites (a deterministic
    parameter, e.g. θ = (2 sign − 1) scale, is what ``forward`` reads), recorded as the site
    :data:`OUTPUT`.
    """
    trace = handlers.trace(prior).get_trace()
    params = {name: site["value"] for name, site in trace.items() if site["type"] in ("sample", "deterministic")}
    numpyro.deterministic(OUTPUT, forward(params, *inputs))

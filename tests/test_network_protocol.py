"""One network protocol: every network is a NumPyro model, a pure forward map and an exact sampler.

For each shape (neurons, lattice paths, Karhunen–Loève, a deep network on an input process, the
parameter-splitting network): it is a :class:`RandomNetwork`; ``forward`` applied to the parameters
the model draws equals the output the model records; the exact sampler, where there is one, draws
parameters that ``forward`` takes, with the model's shapes.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpyro import handlers

import nnqm_ppl  # noqa: F401  (float64)
from nnqm_ppl.networks import neurons as nn
from nnqm_ppl.networks.deep import DeepNetwork, ou_split
from nnqm_ppl.networks.kkl import karhunen_loeve
from nnqm_ppl.networks.paths import PathNetwork, path_network
from nnqm_ppl.networks.protocol import OUTPUT, RandomNetwork
from nnqm_ppl.physics import Lattice, Potential

TIMES = jnp.linspace(-1.0, 1.0, 9)
LATTICE = Lattice(beta=2.0, slices=8)
QUADRATIC = Potential.from_coeffs([0.0, 0.0, 0.5])
QUARTIC = Potential.from_coeffs([0.0, 0.0, 0.5, 0.0, 1.0])

CASES = {
    "neurons": (nn.cosnet(5, 2, 1.0, 1.0, nn.a_distribution(5)), (jnp.array([[0.0, 0.1], [0.3, -0.2]]),)),
    "paths": (path_network(LATTICE, QUARTIC, "position"), ()),
    "fourier": (path_network(LATTICE, QUADRATIC, "fourier"), ()),
    "kkl": (karhunen_loeve("ou", 1.0, 6, prior="rademacher"), (TIMES,)),
    "deep": (DeepNetwork(depth=2, width=4, activation="tanh"), (jnp.linspace(-1.0, 1.0, 7),)),
    "split": (ou_split(1.0, 4), (TIMES,)),
}
EXACT = {"neurons": True, "paths": False, "fourier": True, "kkl": True, "deep": True, "split": True}
#: The position network's flat (improper) prior cannot be drawn from: its θ is given.
GIVEN = {"paths": {"q": jnp.linspace(-0.5, 0.5, 8)}}


def _params(net, trace: dict):
    """The parameters the model drew, in the form forward takes."""
    if isinstance(net, PathNetwork):
        return trace[net.site]["value"]
    return {k: s["value"] for k, s in trace.items() if s["type"] in ("sample", "deterministic") and k != OUTPUT}


@pytest.mark.parametrize("name", CASES)
def test_network_follows_the_protocol(name):
    net, inputs = CASES[name]
    assert isinstance(net, RandomNetwork)
    model = handlers.substitute(handlers.seed(net.model, jax.random.key(3)), data=GIVEN.get(name, {}))
    trace = handlers.trace(model).get_trace(*inputs)
    params = _params(net, trace)
    np.testing.assert_array_equal(net.forward(params, *inputs), trace[OUTPUT]["value"])
    sampler = net.exact_sampler()
    assert (sampler is not None) == EXACT[name]
    if sampler is not None:
        draws = sampler(jax.random.key(4), 3)
        one = jax.tree.map(lambda v: v[0], draws)
        if isinstance(params, dict):  # the sites forward reads (a Rademacher θ, not its sign)
            assert all(jnp.shape(v) == jnp.shape(params[k]) for k, v in one.items())
        else:
            assert jnp.shape(one) == jnp.shape(params)
        assert jnp.shape(net.forward(one, *inputs)) == jnp.shape(trace[OUTPUT]["value"])

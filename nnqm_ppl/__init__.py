"""nnqm_ppl: neural networks with random parameters as Euclidean quantum theories.

Importing the package switches JAX to float64 (the suite's convention: every correlator,
action and exact value is computed in double precision).
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

__all__ = ["__version__"]

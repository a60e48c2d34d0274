"""nnqm_ppl: neural networks with random parameters as Euclidean quantum theories.

Importing the package switches JAX to float64 (the suite's convention: every correlator,
action and exact value is computed in double precision) and switches on JAX's persistent
compilation cache (:mod:`nnqm_ppl.cache`; ``NNQM_CACHE_DIR=off`` disables it).
"""

import jax

from nnqm_ppl.cache import enable_compilation_cache

jax.config.update("jax_enable_x64", True)
enable_compilation_cache()

__version__ = "0.1.0"

__all__ = ["__version__"]

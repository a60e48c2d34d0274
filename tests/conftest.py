"""Test-session settings.

- One BLAS thread per process: the CI machine has 2 cores and JAX's own thread pool;
  oversubscribed BLAS threads made small eigh calls 100x slower.
- Headless plots.
- JAX's persistent compilation cache off (``NNQM_CACHE_DIR=off``, inherited by the command's
  subprocesses): tests must not depend on, or write into, a user's cache.
- Compiled programs released after every test module: each XLA:CPU executable keeps memory
  mappings, and a few hundred tests in one process reached the kernel's ``vm.max_map_count``
  (65530), where XLA segfaulted while compiling (seen twice in CI at the same test). With the
  caches cleared per module the process stays near 1.5k mappings.
"""

import gc
import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NNQM_CACHE_DIR", "off")


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compilation caches (and so the executables' mappings) after each module."""
    yield
    import jax

    jax.clear_caches()
    gc.collect()

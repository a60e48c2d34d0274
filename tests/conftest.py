"""Test-session settings.

- One BLAS thread per process: the CI machine has 2 cores and JAX's own thread pool;
  oversubscribed BLAS threads made small eigh calls 100x slower.
- Headless plots.
- JAX's persistent compilation cache in a fresh directory of this test session
  (``NNQM_CACHE_DIR``, inherited by the command's subprocesses): tests neither depend on nor write
  into a user's cache, and the many runs of one job at one size (resume, one chain, the job grid,
  subprocess runs) compile it once. Measured on tests/test_resume.py + tests/test_one_chain.py:
  CPU time 344 s with the cache off, 218 s with the session cache.
- Compiled programs released after every test module: each XLA:CPU executable keeps memory
  mappings, and a few hundred tests in one process reached the kernel's ``vm.max_map_count``
  (65530), where XLA segfaulted while compiling (seen twice in CI at the same test). With the
  caches cleared per module the process stays near 1.5k mappings.
"""

import atexit
import gc
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
_SESSION_CACHE = tempfile.mkdtemp(prefix="nnqm_test_xla_")
if os.environ.setdefault("NNQM_CACHE_DIR", _SESSION_CACHE) == _SESSION_CACHE:
    atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)
else:
    os.rmdir(_SESSION_CACHE)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compilation caches (and so the executables' mappings) after each module."""
    yield
    import jax

    jax.clear_caches()
    gc.collect()

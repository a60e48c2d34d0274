"""Test-session settings.

- One BLAS thread per process: the CI machine has 2 cores and JAX's own thread pool;
  oversubscribed BLAS threads made small eigh calls 100x slower.
- Headless plots.
- JAX's persistent compilation cache off (``NNQM_CACHE_DIR=off``, inherited by the command's
  subprocesses): tests must not depend on, or write into, a user's cache shared with other
  processes; a CI run once died in XLA compilation with the shared cache on, not reproduced since.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NNQM_CACHE_DIR", "off")

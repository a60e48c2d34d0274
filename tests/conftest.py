"""Test-session settings: one BLAS thread per process (the CI machine has 2 cores and JAX's own
thread pool; oversubscribed BLAS threads made small eigh calls 100x slower), headless plots."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

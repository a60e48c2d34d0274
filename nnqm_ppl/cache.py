"""JAX's persistent compilation cache, on by default in a user cache directory.

Switched on when :mod:`nnqm_ppl` is imported, before anything is compiled (JAX fixes its cache
the first time it compiles), so a second run of the same job, and every checkpoint segment after
the first, loads its compiled programs instead of compiling them again.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

__all__ = ["cache_dir", "enable_compilation_cache"]


def cache_dir() -> Path | None:
    """Where JAX's persistent compilation cache lives: ``$NNQM_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/nnqm_ppl/jax``, else ``~/.cache/nnqm_ppl/jax``; None if
    ``NNQM_CACHE_DIR=off``."""
    env = os.environ.get("NNQM_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnqm_ppl" / "jax"


def enable_compilation_cache() -> Path | None:
    """Switch on JAX's persistent compilation cache in :func:`cache_dir` (on by default).

    Every program taking over 0.1 s to compile is stored (ours take seconds; smaller ones are
    cheaper to compile than to load).

    Returns
    -------
    Path or None
        The cache directory, or None when switched off.
    """
    path = cache_dir()
    if path is not None:
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    return path

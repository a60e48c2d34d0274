"""Atomic file writes: a temporary file beside the target, renamed into place on success only.

Used by :mod:`nnqm_ppl.report` (results) and :mod:`nnqm_ppl.sampling` (checkpoints), so a crash
or a kill at any moment leaves either the previous complete file or the new complete file, never a
partial one. Temporary files are named ``.NAME.*.tmp`` and are removed on any error.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "remove_stale"]

_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success only.

    Parameters
    ----------
    target : Path
        The file to (re)place; its directory is created if missing.

    Yields
    ------
    Path
        A fresh temporary file in the same directory (same file system, so ``os.replace`` is
        atomic).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_stale(directory: Path) -> list[Path]:
    """Delete temporary files that a killed writer left in ``directory`` (``.NAME.*.tmp``).

    Parameters
    ----------
    directory : Path
        A run directory (missing is fine).

    Returns
    -------
    list of Path
        The files removed; none of them was ever a complete result.
    """
    directory = Path(directory)
    stale = sorted(directory.glob(".*.tmp")) if directory.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale

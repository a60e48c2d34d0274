"""A run directory held by one run at a time, checked before any sampling.

:func:`claimed` creates ``DIR`` (and missing parents), checks that files can be created in it,
and holds an exclusive OS lock on ``DIR/.nnqm-run.lock`` (``fcntl.flock``) for the run's whole
life. The kernel drops the lock when the process ends, however it ends, so a killed run never
leaves a stale lock; the file itself only says who holds it (pid, host, job, start time) and is
removed by the holder when it is done. A second run on a held directory is refused with that line.

:func:`check_finished` refuses to overwrite a finished run (``DIR/summary.json``) of another job,
spec or seed unless ``--force`` is given; :func:`discard_previous` then removes the earlier run's
files, its summary first, so the directory never shows a summary beside another run's results.

Every refusal is a :class:`~nnqm_ppl.spec.SpecError` (one line, exit 2). A full disk is not
refused here: :func:`disk_full` recognises it wherever it surfaces.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nnqm_ppl.spec import SpecError

__all__ = ["LOCK_NAME", "claimed", "check_finished", "discard_previous", "disk_full"]

#: the lock file of a run directory (hidden; removed by its holder at the end of the run)
LOCK_NAME = ".nnqm-run.lock"
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is "no space left" or "quota exceeded"."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _refuse(out: Path, exc: OSError, what: str) -> SpecError:
    why = "a parent of it is a file" if exc.errno == errno.ENOTDIR else os.strerror(exc.errno or 0)
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
    return SpecError(f"--out {out}", "", f"{what}: {why}{where}; choose another --out")


def _make_dir(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the directories created, deepest first."""
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {out}", "", "exists and is not a directory; choose another --out")
    missing = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if disk_full(exc):
            raise
        raise _refuse(out, exc, "cannot create the directory") from None
    return [p for p in missing if p.is_dir()]


def _probe(out: Path) -> None:
    """Create and delete a file in ``out``: every result is written that way (atomic rename)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".nnqm-probe.", suffix=".tmp", dir=out)
    except OSError as exc:
        if disk_full(exc):
            raise
        raise _refuse(out, exc, "cannot create files in it") from None
    os.close(fd)
    os.unlink(name)


def _holder(fd: int) -> str:
    """The holder line of a held lock file, in words."""
    try:
        info = json.loads(os.pread(fd, 65536, 0).decode())
        return (f"pid {info['pid']} on host {info['host']}, job {info['job']}, started {info['started']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a run that is just starting (no holder recorded yet)"


def _lock(out: Path, job_file: str) -> int:
    """Take the lock of ``out``; return the locked descriptor (close it to release)."""
    path = out / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise SpecError(f"--out {out}", "", f"in use by another run ({holder}); wait for it to end, "
                            "or choose another --out") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed this file as we locked it: lock the new one
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    info = {"pid": os.getpid(), "host": socket.gethostname(), "job": str(job_file), "started": started}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    except OSError:
        _unlock(path, fd)
        raise
    return fd


def _unlock(path: Path, fd: int) -> None:
    path.unlink(missing_ok=True)  # while still held: a waiting run then locks a fresh file
    os.close(fd)


@contextmanager
def claimed(out: Path, job_file: str) -> Iterator[Path]:
    """Hold the run directory ``out`` for the block: created, writable, and locked.

    Parameters
    ----------
    out : Path
        The run directory (``--out``); it and its missing parents are created. Directories
        created here are removed again if they are empty when the block ends (a refused run
        leaves nothing behind).
    job_file : str
        The job, recorded as the holder's.

    Yields
    ------
    Path
        ``out``.

    Raises
    ------
    SpecError
        If ``out`` is not a directory, cannot be created, files cannot be created in it
        (read-only, permission denied, a parent that is a file), or another run holds it.
    OSError
        If the disk is full (:func:`disk_full`).
    """
    out = Path(out)
    created = _make_dir(out)
    try:
        _probe(out)
        fd = _lock(out, job_file)
    except BaseException:
        _remove_empty(created)
        raise
    try:
        yield out
    finally:
        _unlock(out / LOCK_NAME, fd)
        _remove_empty(created)


def _remove_empty(created: list[Path]) -> None:
    for directory in created:
        try:
            directory.rmdir()
        except OSError:
            return


def _flat(tree: object, prefix: str = "") -> dict[str, object]:
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): tree}


def check_finished(out: Path, old: dict | None, tag: dict) -> None:
    """Refuse to replace a finished run of another job, spec or seed.

    Parameters
    ----------
    out : Path
        The run directory.
    old : dict or None
        Its ``summary.json`` (None: no finished run there).
    tag : dict
        The new run's identity (:func:`nnqm_ppl.report.job_tag`: resolved file and spec).

    Raises
    ------
    SpecError
        If ``old`` belongs to another job, or to this job with another spec or seed; the
        message names up to three fields that differ and says to add ``--force``.
    """
    if old is None:
        return
    spec = old.get("spec")
    if not isinstance(spec, dict) or "file" not in spec:
        raise SpecError(f"--out {out}", "", "holds a summary.json that is not an nnqm run; "
                        "add --force to replace it, or choose another --out")
    spec = {**spec, "file": str(Path(spec["file"]).resolve())}
    new = tag["spec"]
    if spec["file"] != new["file"]:
        what = f"a different job ({spec['file']})"
    else:
        before, now = _flat(spec), _flat(new)
        diff = [k for k in sorted(before.keys() | now.keys()) if before.get(k) != now.get(k)]
        if not diff:
            return  # the same run again: it reproduces the same results
        shown = "; ".join(f"{k}: {before.get(k)!r} there, {now.get(k)!r} now" for k in diff[:3])
        what = f"this job with a different spec or seed ({shown}{'; ...' if len(diff) > 3 else ''})"
    raise SpecError(f"--out {out}", "", f"holds a finished run of {what}; add --force to replace it, "
                    "or choose another --out")


def discard_previous(out: Path, checkpoints: list[Path]) -> list[Path]:
    """Delete an earlier run's files (``--force``): ``summary.json`` first, then its draws,
    figures and checkpoints. Returns the files deleted."""
    out = Path(out)
    files = [out / "summary.json", out / "samples.nc", *sorted(out.glob("*.png")), *checkpoints]
    gone = [f for f in files if f.is_file()]
    for f in gone:
        f.unlink()
    return gone

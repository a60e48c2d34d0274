"""Checkpoint files: arrays and JSON, never code.

A checkpoint is an NPZ archive (:func:`numpy.savez`) read with ``allow_pickle=False``. Its
``__header__`` member is UTF-8 JSON: the format name and version, the job's identity (its file
and resolved spec, :func:`nnqm_ppl.report.job_tag`), the identity of the sampled model
(:func:`model_identity`), the draws per chain done, and the layout of the sampler state. Every
other member is a plain numeric array: the leaves of NumPyro's sampler state (typed PRNG keys as
their :func:`jax.random.key_data`, rebuilt with :func:`jax.random.wrap_key_data`), and the draws
and sampler statistics so far. The state's structure is rebuilt from the JSON with a fixed set of
node kinds (dict, tuple, None and NumPyro's ``HMCState``/``HMCAdaptState``), so reading a file
runs no code from it. A file that is not such an archive (a pickle, say), is truncated or
altered (ZIP CRC-32 checks), or belongs to another job or model is refused with a
:class:`~nnqm_ppl.spec.SpecError`, and left as it is.

A job may sample several models (a spectral fit samples each candidate K): the model a task
samples ``n``-th (its ``slot``, passed to :func:`nnqm_ppl.sampling.run_mcmc` with the checkpoint)
has its own file, ``DIR/checkpoint.npz`` for the first and ``DIR/checkpoint.n.npz`` after it, and
its identity (its sample sites with their
shapes and dtypes, a digest of its data, its PRNG key and ``n``) must match to resume it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jax
import numpy as np
import numpyro
from numpyro.infer.hmc import HMCState
from numpyro.infer.hmc_util import HMCAdaptState
from numpyro.infer.initialization import init_to_uniform

from nnqm_ppl.atomic import atomic_path
from nnqm_ppl.spec import SpecError

__all__ = [
    "CHECKPOINT_NAME",
    "Checkpoint",
    "model_identity",
    "write_checkpoint",
    "read_checkpoint",
    "KeyData",
    "to_host",
    "from_host",
]

#: file name of a run directory's (first sampled model's) checkpoint
CHECKPOINT_NAME = "checkpoint.npz"
_FORMAT, _VERSION = "nnqm_ppl checkpoint", 2
_HEADER = "__header__"
_ZIP_MAGIC = b"PK\x03\x04"  # what an NPZ archive begins with
#: the only named tuples a state may hold (rebuilt by name: nothing else is ever constructed)
_NAMEDTUPLES = {"HMCState": HMCState, "HMCAdaptState": HMCAdaptState}


@dataclass(frozen=True)
class Checkpoint:
    """Where a run keeps its checkpoints, which job they belong to, and whether to resume.

    Attributes
    ----------
    path : Path
        The first sampled model's checkpoint (``DIR/checkpoint.npz``); model ``n`` > 0 has
        ``DIR/checkpoint.n.npz`` (:meth:`model_path`).
    tag : dict
        JSON-ready identity of the job (its file and resolved spec); a checkpoint whose tag
        differs is refused.
    resume : bool
        Continue from the saved state instead of starting afresh.
    """

    path: Path
    tag: dict
    resume: bool = False

    def model_path(self, slot: int) -> Path:
        """The checkpoint file of the ``slot``-th model the job samples (0 first)."""
        return self.path if slot == 0 else self.path.with_suffix(f".{slot}{self.path.suffix}")

    def files(self) -> list[Path]:
        """The checkpoint files of this run that exist, the first model's first."""
        pattern = re.compile(rf"{re.escape(self.path.stem)}\.[1-9][0-9]*{re.escape(self.path.suffix)}")
        later = [p for p in self.path.parent.glob(f"{self.path.stem}.*") if pattern.fullmatch(p.name)]
        return [p for p in (self.path, *sorted(later)) if p.is_file()]

    def remove(self) -> None:
        """Delete every checkpoint file of this run (once its results are written)."""
        for path in self.files():
            path.unlink(missing_ok=True)


@partial(jax.tree_util.register_dataclass, data_fields=["data"], meta_fields=["impl"])
@dataclass(frozen=True)
class KeyData:
    """A typed PRNG key array on the host: its raw data and the name of its implementation."""

    data: np.ndarray
    impl: str


def model_identity(model: Callable[..., Any], kwargs: dict, key: Any, slot: int) -> dict:
    """JSON-ready identity of one sampled model: what a checkpoint of it must match.

    Parameters
    ----------
    model : callable
        The NumPyro model; it is traced abstractly (:func:`jax.eval_shape`, nothing computed),
        its latent sites given values as NumPyro's initialisation does (``init_to_uniform``:
        improper priors have no sampler).
    kwargs : dict
        Its keyword arguments (arrays, e.g. the data), hashed with SHA-256.
    key : jax.Array
        The PRNG key the model is sampled with.
    slot : int
        Its number among the models the job samples.

    Returns
    -------
    dict
        ``slot``, ``sites`` (name -> shape, dtype, observed), ``kwargs`` (the digest) and
        ``key`` (the key's raw data).
    """
    observed: dict[str, bool] = {}

    def sites() -> dict:
        seeded = numpyro.handlers.seed(model, rng_seed=0)
        trace = numpyro.handlers.trace(numpyro.handlers.substitute(seeded, substitute_fn=init_to_uniform)
                                       ).get_trace(**kwargs)
        out = {}
        for name, site in trace.items():
            if site["type"] == "sample":
                observed[name] = bool(site["is_observed"])
                out[name] = site["value"]
        return out

    shapes = jax.eval_shape(sites)
    digest = hashlib.sha256()
    for name in sorted(kwargs):
        for leaf in jax.tree.leaves(kwargs[name]):
            a = np.asarray(leaf)
            digest.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            digest.update(np.ascontiguousarray(a).tobytes())
    raw = jax.random.key_data(key) if _is_key(key) else key
    return {
        "slot": slot,
        "sites": {n: {"shape": list(v.shape), "dtype": str(v.dtype), "observed": observed[n]}
                  for n, v in sorted(shapes.items())},
        "kwargs": digest.hexdigest(),
        "key": np.asarray(raw).tolist(),
    }


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def to_host(state: Any) -> Any:
    """A sampler state on the host: arrays as NumPy, typed PRNG keys as :class:`KeyData`."""
    def conv(x: Any) -> Any:
        if _is_key(x):
            return KeyData(np.asarray(jax.random.key_data(x)), str(jax.random.key_impl(x)))
        return np.asarray(jax.device_get(x))

    return jax.tree.map(conv, state, is_leaf=_is_key)


def from_host(state: Any) -> Any:
    """Inverse of :func:`to_host`: JAX arrays and typed PRNG keys again."""
    def conv(x: Any) -> Any:
        if isinstance(x, KeyData):
            return jax.random.wrap_key_data(x.data, impl=x.impl)
        return jax.numpy.asarray(x)

    return jax.tree.map(conv, state, is_leaf=lambda x: isinstance(x, KeyData))


def _encode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    """JSON layout of a host state tree; its arrays go into ``arrays`` as ``state/i``."""
    if node is None:
        return None
    if isinstance(node, KeyData):
        name = f"state/{len(arrays)}"
        arrays[name] = np.asarray(node.data)
        return {"key": name, "impl": node.impl}
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        kind = type(node).__name__
        if _NAMEDTUPLES.get(kind) is not type(node):
            raise TypeError(f"a checkpoint cannot hold a {type(node).__qualname__}")
        return {"namedtuple": kind, "fields": [_encode(v, arrays) for v in node]}
    if isinstance(node, tuple):
        return {"tuple": [_encode(v, arrays) for v in node]}
    if isinstance(node, dict):
        return {"dict": [[list(k) if isinstance(k, tuple) else k, _encode(v, arrays)] for k, v in node.items()]}
    name = f"state/{len(arrays)}"
    arrays[name] = np.asarray(node)
    return {"array": name}


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`_encode`; only the node kinds it writes are accepted."""
    if node is None:
        return None
    if set(node) == {"array"}:
        return arrays[node["array"]]
    if set(node) == {"key", "impl"}:
        return KeyData(arrays[node["key"]], str(node["impl"]))
    if set(node) == {"namedtuple", "fields"}:
        return _NAMEDTUPLES[node["namedtuple"]](*(_decode(v, arrays) for v in node["fields"]))
    if set(node) == {"tuple"}:
        return tuple(_decode(v, arrays) for v in node["tuple"])
    if set(node) == {"dict"}:
        return {_dict_key(k): _decode(v, arrays) for k, v in node["dict"]}
    raise ValueError(f"unknown node {sorted(node)}")


def _dict_key(k: Any) -> str | tuple[str, ...]:
    if isinstance(k, str):
        return k
    if isinstance(k, list) and all(isinstance(s, str) for s in k):
        return tuple(k)
    raise ValueError("a dict key that is not a name")


def write_checkpoint(path: Path, tag: dict, model: dict, state: Any, samples: dict, stats: dict,
                     done: int) -> None:
    """Write a checkpoint atomically (the previous one stays complete until the rename).

    Parameters
    ----------
    path : Path
        Target file.
    tag, model : dict
        The job's identity and the model's (:func:`model_identity`).
    state : pytree
        NumPyro's sampler state on the host, PRNG keys as :class:`KeyData`.
    samples, stats : dict of ndarray
        Draws and sampler statistics so far, each (chain, draw, ...).
    done : int
        Draws per chain in ``samples``.
    """
    arrays: dict[str, np.ndarray] = {}
    layout = _encode(state, arrays)
    groups = {}
    for group, values in (("samples", samples), ("stats", stats)):
        groups[group] = [[name, f"{group}/{i}"] for i, name in enumerate(values)]
        arrays |= {f"{group}/{i}": np.asarray(v) for i, v in enumerate(values.values())}
    header = {"format": _FORMAT, "version": _VERSION, "job": tag, "model": model, "done": done,
              "state": layout, **groups}
    arrays[_HEADER] = np.frombuffer(json.dumps(header, default=str).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)


def _canonical(tag: dict) -> str:
    return json.dumps(tag, sort_keys=True, default=str)


def _sites(model: dict) -> str:
    """The latent sites of a model identity, e.g. ``A[2], E1, dE[1]``."""
    sites = model.get("sites", {})
    return ", ".join(n + (f"[{','.join(map(str, s['shape']))}]" if s["shape"] else "")
                     for n, s in sites.items() if not s["observed"])


def _damaged(exc: Exception) -> str:
    return (f"damaged checkpoint ({exc.__class__.__name__}: truncated, altered or not written by nnqm); "
            "remove it or choose another --out")


def read_checkpoint(path: Path, tag: dict | None = None, model: dict | None = None) -> dict | None:
    """Load a checkpoint (None if there is none); with ``tag``/``model``, refuse another job's or model's.

    Parameters
    ----------
    path : Path
        The checkpoint file.
    tag : dict, optional
        The job's identity the file must carry.
    model : dict, optional
        The model's identity (:func:`model_identity`) the file must carry.

    Returns
    -------
    dict or None
        ``done``, ``state`` (host tree, keys as :class:`KeyData`), ``samples``, ``stats``,
        ``job`` and ``model``.

    Raises
    ------
    SpecError
        If the file is not an NPZ archive of arrays and JSON (a pickle is refused unread), is
        truncated or altered, has another format version, or belongs to another job or model.
    """
    path = Path(path)
    if not path.is_file():
        return None
    where = str(path)
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise SpecError(where, "", f"unreadable checkpoint ({exc.__class__.__name__}); remove it or choose "
                        "another --out") from None
    if magic != _ZIP_MAGIC:
        raise SpecError(where, "", "not a checkpoint: not an NPZ archive of arrays and JSON (a pickle or "
                        "other code is never loaded); remove it or choose another --out")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
        fmt, version = header.get("format"), header.get("version")
    except Exception as exc:  # noqa: BLE001 - any failure to read means the same to the user
        raise SpecError(where, "", _damaged(exc)) from None
    if fmt != _FORMAT or version != _VERSION:
        raise SpecError(where, "", f"checkpoint format {fmt!r} version {version!r} is not {_FORMAT!r} version "
                        f"{_VERSION}; remove it or choose another --out")
    try:
        saved_tag, saved_model = dict(header["job"]), dict(header["model"])
        saved_sites = _sites(saved_model)
        state = _decode(header["state"], arrays)
        samples = {name: arrays[member] for name, member in header["samples"]}
        stats = {name: arrays[member] for name, member in header["stats"]}
        done = int(header["done"])
        draws = {np.shape(v)[1] for v in (*samples.values(), *stats.values())}
        if done < 0 or not draws <= {done}:
            raise ValueError("draws that do not match their count")
    except Exception as exc:  # noqa: BLE001
        raise SpecError(where, "", _damaged(exc)) from None
    if tag is not None and _canonical(saved_tag) != _canonical(tag):
        same_file = saved_tag.get("file") == tag.get("file")
        other = f"a different job ({saved_tag.get('file')})"
        what = "the same job with a different spec or seed" if same_file else other
        raise SpecError(where, "", f"checkpoint of {what}; choose another --out")
    if model is not None and _canonical(saved_model) != _canonical(model):
        if saved_model.get("sites") != model["sites"]:
            what = f"sites {saved_sites or 'none'}, not {_sites(model)}"
        else:
            what = "the same sites with other data, key or place in the job"
        raise SpecError(where, "", f"checkpoint of a different model ({what}); remove it or choose another --out")
    return {"done": done, "state": state, "samples": samples, "stats": stats, "job": saved_tag,
            "model": saved_model}

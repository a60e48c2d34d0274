"""The one place that configures sampling: exact draws or NumPyro NUTS/HMC, with checkpoints.

Both return an ArviZ DataTree (``posterior`` with dims ``(chain, draw, ...)``; MCMC runs also
carry ``sample_stats`` with ``diverging``, ``tree_depth``, ``reached_max_tree_depth``, ``energy``
and ``acceptance_rate`` via :func:`arviz_base.from_numpyro`).

MCMC runs in segments of ``sampler.checkpoint_every`` draws: ``MCMC.warmup`` once, then
``MCMC.run`` per segment from ``post_warmup_state = last_state`` with the state's own key. A run
given a :class:`Checkpoint` (and the ``slot`` of the model: the task's n-th sampled model) saves
the host copy of the sampler state and the draws so far after the warm-up and after every
segment, atomically, as arrays and JSON (:mod:`nnqm_ppl.checkpoint`; each model a job samples has
its own file and identity). A
resumed run loads that state and executes the remaining segments exactly as the uninterrupted run
would, so its draws are identical bit for bit.

Several hosts: after :func:`init_distributed` (``jax.distributed``; JAX is the distributed
engine), each of ``jax.process_count()`` processes runs ``chains / process_count`` of the chains on
its own devices, with the per-chain keys a single process would use (``jax.random.split(key,
chains)``, chain ``c`` on process ``c // local_chains``). After every segment the draws (and, for a
checkpoint, the sampler state) are gathered with
:func:`jax.experimental.multihost_utils.process_allgather`, so every process returns the run with
all chains, and a checkpoint has the same layout as a single process's; only process 0 writes it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz_base
import jax
import numpy as np
import xarray as xr
from arviz_base.io_numpyro import MCMCAdapter
from jax.experimental import multihost_utils
from numpyro.infer import HMC, MCMC, NUTS

from nnqm_ppl.checkpoint import (
    CHECKPOINT_NAME,
    Checkpoint,
    from_host,
    model_identity,
    read_checkpoint,
    to_host,
    write_checkpoint,
)
from nnqm_ppl.spec import SamplerSpec, SpecError

__all__ = [
    "run_mcmc",
    "exact_draws",
    "chain_method",
    "progress_enabled",
    "Checkpoint",
    "read_checkpoint",
    "Interrupted",
    "NumericalTrouble",
    "CHECKPOINT_NAME",
    "init_distributed",
    "is_writer",
]

_EXTRA_FIELDS = ("energy", "accept_prob", "diverging", "num_steps")


def progress_enabled(requested: bool = True) -> bool:
    """Progress bars only on an interactive terminal, never in CI or when switched off."""
    return requested and sys.stderr.isatty() and not os.environ.get("CI")


def init_distributed() -> None:
    """Join a multi-process JAX run with :func:`jax.distributed.initialize`, before any device is used.

    On SLURM, Open MPI and Kubernetes JAX finds the coordinator, the number of processes and this
    process's id itself. Elsewhere set ``JAX_COORDINATOR_ADDRESS`` (host:port of process 0, read
    by JAX), ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``.

    Raises
    ------
    SpecError
        If ``JAX_NUM_PROCESSES`` or ``JAX_PROCESS_ID`` is not a non-negative integer, or JAX
        finds neither a cluster nor these settings.
    """
    given = {}
    for env, name in (("JAX_NUM_PROCESSES", "num_processes"), ("JAX_PROCESS_ID", "process_id")):
        value = os.environ.get(env)
        if value is not None:
            if not value.strip().isdigit():
                raise SpecError(env, "", f"must be a non-negative integer, got {value!r}")
            given[name] = int(value)
    try:
        jax.distributed.initialize(**given)
    except ValueError as exc:  # what JAX could not find out by itself
        raise SpecError("--distributed", "", f"{exc} (outside SLURM, Open MPI and Kubernetes set "
                        "JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID)") from None


def is_writer() -> bool:
    """Whether this process writes files and prints results (process 0; the only one when not distributed)."""
    return jax.process_index() == 0


def chain_method(chains: int) -> str:
    """``"parallel"`` when there is a device per chain (GPUs or XLA host devices), else ``"vectorized"``."""
    return "parallel" if chains > 1 and jax.local_device_count() >= chains else "vectorized"


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


class Interrupted(Exception):  # noqa: N818 - a stop the user asked for, not an error
    """Sampling stopped on SIGINT after saving a checkpoint.

    Attributes
    ----------
    path : Path
        The checkpoint written.
    done, total : int
        Draws per chain saved, and asked for.
    """

    def __init__(self, path: Path, done: int, total: int) -> None:
        self.path, self.done, self.total = Path(path), done, total
        super().__init__(f"interrupted after {done} of {total} draws per chain; checkpoint saved in {path}")


class NumericalTrouble(RuntimeError):
    """The model's log density is NaN or infinite wherever the sampler looked: nothing to sample."""


def _save(path: Path, ck: Checkpoint, model: dict, state: Any, samples: dict, stats: dict, done: int, *,
          batched: bool = True) -> None:
    """Checkpoint one model's run at ``path``: every process hands in its chains' state
    (``batched``: with a leading chain axis), process 0 writes."""
    state = _gather_chains(to_host(state), batched)
    if is_writer():
        write_checkpoint(path, ck.tag, model, state, samples, stats, done)


@contextmanager
def _sigint_deferred(enabled: bool) -> Iterator[threading.Event]:
    """While active (and ``enabled``), a first Ctrl-C only sets the event (the caller stops at the
    next segment boundary); a second one interrupts at once."""
    stop = threading.Event()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nnnqm: stopping after this segment to save a checkpoint (Ctrl-C again to abort)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


# --------------------------------------------------------------------------------------------
# Samplers
# --------------------------------------------------------------------------------------------


@dataclass
class _Collected:
    """What :class:`arviz_base.io_numpyro.MCMCAdapter` reads from an MCMC object, for draws
    gathered over several segments."""

    sampler: Any
    num_chains: int
    num_samples: int
    samples: dict
    stats: dict
    _kwargs: dict
    _args: tuple = ()
    thinning: int = 1

    def get_samples(self, group_by_chain: bool = True) -> dict:
        return self.samples

    def get_extra_fields(self, group_by_chain: bool = True) -> dict:
        return self.stats


def _kernel(model: Callable[..., Any], sampler: SamplerSpec) -> NUTS | HMC:
    if sampler.method == "nuts":
        return NUTS(model, target_accept_prob=sampler.target_accept, max_tree_depth=sampler.max_tree_depth)
    if sampler.method == "hmc":
        return HMC(
            model,
            step_size=sampler.step_size,
            trajectory_length=sampler.step_size * sampler.num_steps,
            target_accept_prob=sampler.target_accept,
        )
    raise ValueError(f"run_mcmc needs method 'nuts' or 'hmc', got {sampler.method!r}")


def _layout(chains: int) -> tuple[int, slice]:
    """How many of the run's chains this process runs, and which they are."""
    procs = jax.process_count()
    if chains % procs:
        raise ValueError(f"{chains} chains do not split evenly over {procs} processes")
    local = chains // procs
    first = jax.process_index() * local
    return local, slice(first, first + local)


def _gather_chains(tree: Any, batched: bool = True) -> Any:
    """Every process's chains of a host tree, in chain order (a no-op on one process).

    ``batched`` says whether the leaves carry a leading chain axis (NumPyro drops it from the
    state of a single chain).
    """
    if jax.process_count() == 1:
        return tree
    if not batched:
        tree = jax.tree.map(lambda x: x[None], tree)
    return multihost_utils.process_allgather(tree, tiled=True)


def _own_chains(tree: Any, mine: slice, batched: bool) -> Any:
    """This process's chains of a host tree of all chains (the inverse of :func:`_gather_chains`)."""
    if jax.process_count() == 1:
        return tree
    return jax.tree.map(lambda x: x[mine] if batched else x[mine.start], tree)


def _any_process(flag: bool) -> bool:
    """Whether ``flag`` is set on any process (all processes must call this together)."""
    if jax.process_count() == 1:
        return flag
    return bool(multihost_utils.process_allgather(np.array([flag])).any())


def _append(into: dict, new: dict) -> dict:
    new = _gather_chains({k: np.asarray(jax.device_get(v)) for k, v in new.items()})
    return new if not into else {k: np.concatenate([into[k], new[k]], axis=1) for k in into}


def run_mcmc(
    model: Callable[..., Any],
    sampler: SamplerSpec,
    key: jax.Array,
    *,
    model_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
    dims: dict[str, list[str]] | None = None,
    init_params: dict[str, Any] | None = None,
    checkpoint: Checkpoint | None = None,
    slot: int = 0,
) -> xr.DataTree:
    """Sample ``model`` with NUTS or HMC through :class:`numpyro.infer.MCMC`, in segments.

    Parameters
    ----------
    model : callable
        A NumPyro model (sample sites plus ``numpyro.factor`` for e^{-S}).
    sampler : SamplerSpec
        ``method`` ("nuts" or "hmc"), chains, warmup, samples, target_accept, max_tree_depth,
        for HMC ``step_size`` / ``num_steps`` (trajectory length = step_size · num_steps), and
        ``checkpoint_every`` (draws per segment; 0 = one segment).
    key : jax.Array
        PRNG key; the same key and spec give the same draws, with or without interruptions.
    model_kwargs : dict, optional
        Keyword arguments for the model.
    progress : bool
        Show NumPyro's progress bar (only on an interactive terminal).
    dims : dict, optional
        Dimension names of sites (e.g. ``{"x": ["site"]}``). Given explicitly because
        arviz-base 1.3's dimension inference fails on lazily imported NumPyro.
    init_params : dict, optional
        Starting points of the chains in the unconstrained space, site -> array with a leading
        axis over all the run's chains (default: NumPyro's, uniform in (−2, 2)).
    checkpoint : Checkpoint, optional
        Where to save the sampler state after every segment, and whether to resume from it
        (with ``sampler.checkpoint_every = 0`` nothing is saved).
    slot : int
        Which of the task's sampled models this is (0 first): its file is
        :meth:`Checkpoint.model_path` ``(slot)``, and a later model may not have begun.

    Returns
    -------
    xarray.DataTree
        ``posterior`` and ``sample_stats`` groups from :func:`arviz_base.from_numpyro`.

    Raises
    ------
    Interrupted
        On Ctrl-C while checkpointing, after saving the checkpoint at the next segment boundary.
    SpecError
        When resuming without a checkpoint of the job's first model, or from a checkpoint that
        is damaged or of a different job or model (:func:`nnqm_ppl.checkpoint.read_checkpoint`).
    NumericalTrouble
        If no starting point has a finite log density and gradient.
    ValueError
        With several processes (:func:`init_distributed`), if they cannot share the chains evenly.
    """
    kwargs = model_kwargs or {}
    segment = sampler.checkpoint_every or sampler.samples
    local, mine = _layout(sampler.chains)
    batched = local > 1  # NumPyro keeps a chain axis in the state only for several chains
    mcmc = MCMC(
        _kernel(model, sampler),
        num_warmup=sampler.warmup,
        num_samples=min(segment, sampler.samples),
        num_chains=local,
        chain_method=chain_method(local),
        progress_bar=progress_enabled(progress) and is_writer(),
    )
    active = (checkpoint, slot) if checkpoint is not None and sampler.checkpoint_every else None
    samples: dict = {}
    stats: dict = {}
    done = 0
    with _sigint_deferred(active is not None) as stop:
        saved = None
        if active is not None:
            ck, slot = active
            path, identity = ck.model_path(slot), model_identity(model, kwargs, key, slot)
            saved = read_checkpoint(path, ck.tag, identity) if ck.resume else None
            if ck.resume and saved is None and slot == 0:  # later models may not have begun
                raise SpecError(str(path), "--resume", "no checkpoint to resume from; run without --resume")
        if saved is not None:
            state = from_host(_own_chains(saved["state"], mine, batched))
            samples, stats, done = saved["samples"], saved["stats"], saved["done"]
        else:
            if jax.process_count() > 1:  # the keys one process would give these chains
                key = jax.random.split(key, sampler.chains)[mine]
                key = key if batched else key[0]
            start = None
            if init_params is not None:  # this process's chains; no chain axis for a single chain
                start = {k: np.asarray(v)[mine] if batched else np.asarray(v)[mine][0] for k, v in init_params.items()}
            try:
                mcmc.warmup(key, extra_fields=_EXTRA_FIELDS, init_params=start, **kwargs)
            except RuntimeError as exc:
                if "Cannot find valid initial parameters" not in str(exc):
                    raise
                raise NumericalTrouble(
                    "the log density (or its gradient) is NaN or infinite at every starting point tried "
                    "(NaN or overflow in the model's action): nothing was sampled"
                ) from None
            state = mcmc.post_warmup_state
            if active is not None:
                _save(path, ck, identity, state, samples, stats, done, batched=batched)
        while done < sampler.samples:
            if _any_process(stop.is_set()):
                raise Interrupted(path, done, sampler.samples)
            mcmc.num_samples = min(segment, sampler.samples - done)
            mcmc.post_warmup_state = state
            mcmc.run(state.rng_key, extra_fields=_EXTRA_FIELDS, **kwargs)
            state = mcmc.last_state
            samples = _append(samples, mcmc.get_samples(group_by_chain=True))
            stats = _append(stats, mcmc.get_extra_fields(group_by_chain=True))
            done += mcmc.num_samples
            if active is not None:
                _save(path, ck, identity, state, samples, stats, done, batched=batched)
    collected = _Collected(mcmc.sampler, sampler.chains, sampler.samples, samples, stats, kwargs)
    return arviz_base.from_numpyro(MCMCAdapter(collected), dims=dims or {}, pred_dims={})


def exact_draws(
    draw: Callable[[jax.Array, int], dict[str, jax.Array]],
    sampler: SamplerSpec,
    key: jax.Array,
) -> xr.DataTree:
    """Independent exact draws arranged as ``(chain, draw, ...)``.

    Parameters
    ----------
    draw : callable
        ``draw(key, n)`` returns a dict of arrays with leading axis ``n``.
    sampler : SamplerSpec
        Only ``chains`` and ``samples`` are used.
    key : jax.Array
        PRNG key.

    Returns
    -------
    xarray.DataTree
        A ``posterior`` group of i.i.d. draws (R-hat ≈ 1 and ESS ≈ chains × samples by construction).
    """
    n = sampler.chains * sampler.samples
    values = draw(key, n)
    posterior = {k: np.asarray(v).reshape(sampler.chains, sampler.samples, *np.shape(v)[1:]) for k, v in values.items()}
    return arviz_base.from_dict({"posterior": posterior})

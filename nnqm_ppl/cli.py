"""``nnqm``: parse -> spec -> run -> report -> exit code.

Exit codes: 0 done and gates passed (also when the reader of stdout stops early, as ``| head``
does); 2 bad input (one line on stderr, no traceback), including
an ``--out`` that cannot be created or written, one that another run holds, or one that holds a
finished run of another job, spec or seed (without ``--force``); 3 gates failed (everything still
written, the summary says why), or numerical trouble before any draw (a log density NaN or
infinite wherever the sampler starts: one line on stderr); 4 disk full or quota exceeded while
writing (one line with the command to rerun once space is freed; the last checkpoint is kept, no
result is half-written); 130 interrupted by Ctrl-C (a run with checkpoints saves one first and
prints the ``--resume`` command); 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import tomllib
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from nnqm_ppl.spec import Job, SpecError

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_GATES, EXIT_DISK_FULL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"nnqm: {message} (see nnqm --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nnqm", description="Neural networks as Euclidean quantum theories.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="run a job and write DIR/summary.json, samples.nc, plots")
    r.add_argument("job", type=Path)
    r.add_argument("--out", type=Path, default=None, help="output directory (default runs/JOBNAME)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    r.add_argument("--seed", type=int, default=None)
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--resume", action="store_true", help="continue an unfinished run from DIR/checkpoint*.npz")
    r.add_argument("--force", action="store_true",
                   help="replace the run in DIR (finished or not) even if its job, spec or seed differ")
    r.add_argument("--distributed", action="store_true",
                   help="one of several processes (jax.distributed; also NNQM_DISTRIBUTED=1): the chains are "
                        "shared out, process 0 writes DIR")
    e = sub.add_parser("exact", help="print exact values (JSON) for a model or a job")
    e.add_argument("file", type=Path)
    e.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    d = sub.add_parser("diagnose", help="re-read a finished run and print its diagnostics")
    d.add_argument("dir", type=Path)
    sub.add_parser("list", help="list the catalogue of models and jobs")
    return p


def catalogue_root() -> Path:
    """The directory holding ``models/`` and ``inference/``: the working directory if it has
    them, else the source checkout the package was installed from."""
    cwd = Path.cwd()
    if (cwd / "inference").is_dir():
        return cwd
    return Path(__file__).resolve().parent.parent


def _resume_command(args: argparse.Namespace, out: Path, resume: bool = True) -> str:
    """The command line that continues an interrupted run (the same job, overrides and seed), or
    with ``resume=False`` starts it again."""
    parts = ["nnqm", "run", str(args.job), "--out", str(out)]
    for item in args.overrides:
        parts += ["--set", item]
    if args.seed is not None:
        parts += ["--seed", str(args.seed)]
    if args.distributed:
        parts.append("--distributed")
    return shlex.join([*parts, "--resume"] if resume else parts)


def cmd_run(args: argparse.Namespace) -> int:
    """``nnqm run``: validate, claim the run directory, sample (resuming if asked), report.

    The run directory is created, checked for writing and locked before anything is sampled, and
    stays locked until the run ends (:mod:`nnqm_ppl.rundir`). With ``--distributed`` (or
    ``NNQM_DISTRIBUTED=1``) this is one process of a multi-process JAX run: every process samples
    its share of the chains, all of them get every chain, and only process 0 claims and writes the
    run directory and prints the results; all return the same exit code.
    """
    import jax

    from nnqm_ppl import rundir, sampling
    from nnqm_ppl.tasks import load_job

    if args.distributed or os.environ.get("NNQM_DISTRIBUTED", "").strip().lower() in ("1", "true", "yes", "on"):
        sampling.init_distributed()  # before anything asks JAX for its devices
    writer = sampling.is_writer()
    job = load_job(args.job, args.overrides)
    if job.sampler.chains % jax.process_count():
        raise SpecError(job.file, "sampler.chains",
                        f"{job.sampler.chains} chains do not split evenly over {jax.process_count()} processes")
    if args.seed is not None:
        if args.seed < 0:
            raise SpecError("--seed", "", f"must be >= 0, got {args.seed}")
        job = replace(job, sampler=replace(job.sampler, seed=args.seed))
    if args.force and args.resume:
        raise SpecError("--force", "", "replaces the run in --out, --resume continues it: give one of them")
    out = args.out if args.out is not None else Path("runs") / args.job.stem
    try:
        with ExitStack() as held:
            refused = _claim(held, out, job, writer)
            if refused is not None:
                return refused  # a distributed run's other process: the writer could not claim --out
            return _run_claimed(args, job, out, writer)
    except OSError as exc:
        if not rundir.disk_full(exc):
            raise
        if writer:
            saved = (out / sampling.CHECKPOINT_NAME).is_file()
            kept = "the last checkpoint is kept, " if saved else ""
            print(f"nnqm: disk full ({exc.strerror or exc}) while writing {out}: {kept}no result was half-written; "
                  f"free space there, then run: {_resume_command(args, out, resume=saved)}", file=sys.stderr)
        return EXIT_DISK_FULL


def _claim(held: ExitStack, out: Path, job: Job, writer: bool) -> int | None:
    """Claim the run directory on the writing process (:func:`nnqm_ppl.rundir.claimed`, kept in
    ``held``). There a refusal is raised; in a distributed run every other process gets the
    writer's exit code for it (returned; None: go on) instead of waiting in the first collective."""
    import jax

    from nnqm_ppl import rundir

    failure, code = None, EXIT_OK
    if writer:
        try:
            held.enter_context(rundir.claimed(out, job.file))
        except (SpecError, OSError) as exc:
            failure = exc
            disk = isinstance(exc, OSError) and rundir.disk_full(exc)
            code = EXIT_BAD_INPUT if isinstance(exc, SpecError) else (EXIT_DISK_FULL if disk else EXIT_ERROR)
    if jax.process_count() > 1:
        import numpy as np
        from jax.experimental import multihost_utils

        code = int(multihost_utils.process_allgather(np.array([code]), tiled=True)[0])  # process 0 is the writer
    if failure is not None:
        raise failure
    return None if code == EXIT_OK else code


def _run_claimed(args: argparse.Namespace, job: Job, out: Path, writer: bool) -> int:
    """The part of ``nnqm run`` that needs the run directory: its checks, the sampling, the report."""
    import jax

    from nnqm_ppl import report, rundir, sampling
    from nnqm_ppl.atomic import remove_stale
    from nnqm_ppl.tables import format_table
    from nnqm_ppl.tasks import runner

    ck = sampling.Checkpoint(out / sampling.CHECKPOINT_NAME, report.job_tag(job), resume=args.resume)
    if args.force:
        if writer:
            rundir.discard_previous(out, ck.files())
    else:
        rundir.check_finished(out, report.read_summary(out), ck.tag)
    saved = None if args.force else sampling.read_checkpoint(ck.path, ck.tag)  # --force: the writer removed it
    if args.resume and saved is None:
        raise SpecError(str(ck.path), "--resume", "no checkpoint to resume from; run without --resume")
    if not args.resume and saved is not None:
        raise SpecError(
            str(ck.path), "--resume",
            f"an unfinished run of this job is saved here ({saved['done']} of {job.sampler.samples} draws); "
            "add --resume to continue it, --force to discard it, or choose another --out",
        )
    seed = job.sampler.seed
    if writer:
        remove_stale(out)
        how = f"seed {seed}"
        if saved is not None:
            models = len(ck.files())  # a spectral fit saves one checkpoint per candidate K sampled so far
            how = f"resuming at draw {saved['done']}" + (f" of the first of {models} models" if models > 1 else "")
        print(f"{job.title}  [task {job.task}, {how}] -> {out}", flush=True)  # stdout: stderr is for problems
    t0 = time.perf_counter()
    try:
        result = runner(job.task)(job, jax.random.key(seed), not args.no_progress, ck)
    except sampling.Interrupted as stop:
        if writer:
            print(f"nnqm: {stop}\n  resume with: {_resume_command(args, out)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except sampling.NumericalTrouble as trouble:
        if writer:
            print(f"nnqm: numerical trouble in {job.file}: {trouble}", file=sys.stderr)
        return EXIT_GATES
    elapsed = time.perf_counter() - t0
    if not writer:
        return EXIT_OK if result.diagnostics.passed else EXIT_GATES
    report.write_run(
        out,
        job,
        seed=seed,
        elapsed_s=elapsed,
        diagnostics=result.diagnostics.to_dict(),
        observables=result.observables,
        extra=result.extra,
        datatree=result.datatree,
        figures=result.figures,
    )
    ck.remove()  # the run is complete: its results replace the checkpoints
    print(format_table(result.observables))
    print(f"\nwrote {out}/summary.json ({elapsed:.1f} s)")
    if not result.diagnostics.passed:
        print("GATES FAILED: " + "; ".join(result.diagnostics.failures), file=sys.stderr)
        for line in dict.fromkeys(result.diagnostics.advice):  # one line per kind of failure
            print(f"  advice: {line}", file=sys.stderr)
        return EXIT_GATES
    return EXIT_OK


def cmd_exact(args: argparse.Namespace) -> int:
    from nnqm_ppl.tasks import load_file
    from nnqm_ppl.theories import exact_values

    print(json.dumps(exact_values(load_file(args.file, args.overrides)), indent=2))
    return EXIT_OK


def cmd_diagnose(args: argparse.Namespace) -> int:
    """``nnqm diagnose DIR``: the run's table as ``nnqm run`` printed it (a fit's posterior table),
    on stderr so that stdout stays JSON, then the diagnostics recomputed from the saved draws."""
    from nnqm_ppl.diagnostics import diagnose_run
    from nnqm_ppl.report import read_summary
    from nnqm_ppl.tables import format_table

    summary = read_summary(args.dir)
    if summary is None:
        raise SpecError(str(args.dir), "", "no summary.json here: not a finished run directory")
    recomputed = diagnose_run(args.dir, summary)
    diag = recomputed.to_dict() if recomputed is not None else summary.get("diagnostics", {})
    if summary.get("observables"):
        print(format_table(summary["observables"]), file=sys.stderr)
    print(json.dumps(diag, indent=2))
    for msg, line in zip(diag.get("failures", []), diag.get("advice", []), strict=False):
        print(f"FAILED: {msg}\n  advice: {line}", file=sys.stderr)
    return EXIT_OK if diag.get("passed", False) else EXIT_GATES


def cmd_list(args: argparse.Namespace) -> int:
    root = catalogue_root()
    for folder in ("models", "inference"):
        print(f"{folder}/")
        for path in sorted((root / folder).glob("*.toml")):
            try:
                raw = tomllib.loads(path.read_text())
            except (OSError, tomllib.TOMLDecodeError):
                print(f"  {path.name:28s} (unreadable)")
                continue
            detail = next((raw[k] for k in ("architecture", "network", "kernel", "activation") if k in raw), "")
            what = raw.get("title") or f"{raw.get('kind', '?')}: {detail}"
            print(f"  {path.name:28s} {what}")
    return EXIT_OK


COMMANDS = {"run": cmd_run, "exact": cmd_exact, "diagnose": cmd_diagnose, "list": cmd_list}


def _map_usage() -> tuple[int, int] | None:
    """(memory mappings of this process, the kernel's limit ``vm.max_map_count``), or None off Linux."""
    try:
        limit = int(Path("/proc/sys/vm/max_map_count").read_text())
        with open("/proc/self/maps", "rb") as maps:
            return sum(1 for _ in maps), limit
    except (OSError, ValueError):
        return None


def _release_compiled_code() -> None:
    """Free the compiled programs of finished commands once the process nears its mapping limit.

    Each in-process ``nnqm run`` keeps about 1 000 memory mappings of compiled code (measured:
    BENCHMARKS.md), so a loop of runs in one Python process (a benchmark, a notebook) would reach
    ``vm.max_map_count`` (65 530 by default) and abort inside XLA. Clearing JAX's caches frees them
    at the price of compiling again (from the persistent cache) in the next run, so it is done only
    past half the limit.
    """
    usage = _map_usage()
    if usage is not None and usage[0] > usage[1] // 2:
        import gc

        import jax

        jax.clear_caches()
        gc.collect()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nnqm`` console script."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SpecError as exc:
        print(f"nnqm: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("nnqm: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of stdout stopped early (``nnqm exact FILE | head``): what it read is all it
        # asked for. Point stdout at /dev/null so that the interpreter's final flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the command's last line of defence
        if os.environ.get("NNQM_DEBUG"):
            raise
        print(f"nnqm: error: {exc.__class__.__name__}: {exc} (NNQM_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_ERROR
    finally:
        _release_compiled_code()


if __name__ == "__main__":
    sys.exit(main())

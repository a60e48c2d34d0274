"""``nnqm``: parse -> spec -> run -> report -> exit code.

Exit codes: 0 done and gates passed; 2 bad input (one line on stderr, no traceback); 3 gates
failed (everything still written, the summary says why); 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path

from nnqm_ppl.spec import SpecError

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_GATES = 0, 1, 2, 3


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


def cmd_run(args: argparse.Namespace) -> int:
    import jax

    from nnqm_ppl import report
    from nnqm_ppl.spec import load_job
    from nnqm_ppl.tasks import runner

    job = load_job(args.job, args.overrides)
    if args.seed is not None:
        if args.seed < 0:
            raise SpecError("--seed", "", f"must be >= 0, got {args.seed}")
        job = replace(job, sampler=replace(job.sampler, seed=args.seed))
    out = args.out if args.out is not None else Path("runs") / args.job.stem
    report.check_out_dir(out, job)
    seed = job.sampler.seed
    print(f"{job.title}  [task {job.task}, seed {seed}] -> {out}", file=sys.stderr)
    t0 = time.perf_counter()
    result = runner(job.task)(job, jax.random.key(seed), not args.no_progress)
    elapsed = time.perf_counter() - t0
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
    print(report.format_table(result.observables))
    print(f"\nwrote {out}/summary.json ({elapsed:.1f} s)")
    if not result.diagnostics.passed:
        print("GATES FAILED: " + "; ".join(result.diagnostics.failures), file=sys.stderr)
        for line in result.diagnostics.advice:
            print(f"  advice: {line}", file=sys.stderr)
        return EXIT_GATES
    return EXIT_OK


def cmd_exact(args: argparse.Namespace) -> int:
    from nnqm_ppl.exact.values import exact_values
    from nnqm_ppl.spec import load_file

    print(json.dumps(exact_values(load_file(args.file, args.overrides)), indent=2))
    return EXIT_OK


def cmd_diagnose(args: argparse.Namespace) -> int:
    from nnqm_ppl.report import read_summary

    summary = read_summary(args.dir)
    if summary is None:
        raise SpecError(str(args.dir), "", "no summary.json here: not a finished run directory")
    diag = summary.get("diagnostics", {})
    print(json.dumps(diag, indent=2))
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
            what = raw.get("title") or f"{raw.get('kind', '?')}: {raw.get('architecture') or raw.get('network', '')}"
            print(f"  {path.name:28s} {what}")
    return EXIT_OK


COMMANDS = {"run": cmd_run, "exact": cmd_exact, "diagnose": cmd_diagnose, "list": cmd_list}


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
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the command's last line of defence
        if os.environ.get("NNQM_DEBUG"):
            raise
        print(f"nnqm: error: {exc.__class__.__name__}: {exc} (NNQM_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

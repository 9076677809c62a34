"""The `clipcheck` command: verify (the main job), proofs, probe.

Errors are one line, never a traceback on the terminal; the exit status says what happened (EXIT_HELP)."""
import argparse
import functools
import os
import sys
import tempfile
import traceback
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, cmd_probe, cmd_proofs
from .errors import UsageError
from .interrupts import EXIT_INTERRUPTED, InterruptGuard

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
ERROR_LOG = "clipcheck-error.log"
INTERRUPTED = "interrupted; finished work is kept"

EXIT_HELP = f"""exit status:
  0    every claim that must hold holds
  1    a certified counterexample: a VIOLATED row or a FAILED proof check (see the report)
  2    bad input or usage (--out, --seed, --only, --dask, ...), found before any work starts
  3    an internal error: one line on stderr, the traceback in DIR/{ERROR_LOG}
  130  interrupted (Ctrl-C); finished claims and grid points are kept in DIR/.cache, a rerun resumes"""


def _seed(text):
    """A seed as the runners take it: an integer in [0, 2^63)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer (below 2^63), got {text!r}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _verify_options(p):
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small grids, about 25 s on 2 cores once its kernels are compiled (the default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the larger grids (tens of minutes on 2 cores)")
    p.set_defaults(mode="quick")
    p.add_argument("--out", default="clipcheck-report", metavar="DIR",
                   help="folder for report.md, report.json and the PNG figures (default: %(default)s); one run "
                        "at a time writes into it, a second one waits")
    p.add_argument("--only", metavar="IDS",
                   help="comma-separated claim id prefixes or row ids to run, e.g. 'ZHSJ-Thm3:paper,FACT-M' "
                        "(default: all); the proofs section then holds only the items with matching ids")
    p.add_argument("--seed", type=_seed, default=None, metavar="N",
                   help="override the seed of every sampled claim (default: each claim's recorded seed)")
    p.add_argument("--no-cache", dest="use_cache", action="store_false",
                   help="recompute every claim and grid point (by default one finished earlier with the same "
                        "settings and code is read from DIR/.cache, so an interrupted run resumes; results are "
                        "stored either way)")
    p.add_argument("--no-proofs", dest="with_proofs", action="store_false",
                   help="leave out the proofs_check section")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="ADDRESS",
                       help="run the grid points of the long claims on the workers of a running dask scheduler, "
                            "e.g. tcp://10.0.0.5:8786 (needs the dask extra and this clipcheck on every worker)")
    where.add_argument("--workers", type=_positive_int, metavar="N",
                       help="run the grid points of the long claims on a local dask cluster of N processes")
    where.add_argument("--jobs", type=_positive_int, metavar="N",
                       help="compute N claims at a time, each in its own local process (default: one per core; "
                            "1: everything in this process)")
    p.add_argument("--list", action="store_true", help="list the claim ids and exit")


def _run_verify(args, guard):
    from . import cluster
    from .claims import registry
    from .folder_lock import folder_lock
    from .progress import Progress
    from .report import terminal_table
    from .verify import Hooks, cores, prepare_out, proof_ids, remove_leftovers, select, verify

    if args.list:
        for c in registry():
            print(f"{c.id:16s} {c.title}")
        return EXIT_OK
    # everything that can be bad input is checked here, before any work
    prepare_out(args.out)
    selection = select(registry(), args.only, proof_ids(args.with_proofs))
    progress = Progress(len(selection.claims), check=guard.check)

    def notice(text):
        progress.say(f"clipcheck verify: {text}")

    finished = False
    try:
        with folder_lock(args.out, notice), cluster.executor(args.dask, args.workers) as executor:
            remove_leftovers(args.out)  # of killed runs: while we hold the lock, no other run is writing
            if executor is not None:
                n = len(executor.client.scheduler_info()["workers"])
                progress.say(f"verify: grid points of the long claims run on dask, {n} workers at "
                             f"{executor.client.scheduler.address}")
            hooks = Hooks(claim=progress.claim, step=progress.step, point=progress.point, notice=notice)
            jobs = args.jobs or cores()
            rows, failed, meta, proofs = verify(args.mode, args.out, args.only, args.seed, args.use_cache,
                                                args.with_proofs, hooks, executor, jobs)
        finished = True
    finally:
        progress.close(finished)
    print(terminal_table(rows))
    if proofs is not None:
        n_bad = sum(not p.passed for p in proofs)
        print(f"\nproofs_check: {len(proofs) - n_bad} of {len(proofs)} items pass")
    print(f"\n{len(rows)} rows in {meta['elapsed_s']:.0f} s; report: {args.out}/report.md, {args.out}/report.json")
    if failed:
        print(f"FAILED: {', '.join(getattr(r, 'id', '?') for r in failed)}")
        return EXIT_FAILED
    print("every claim that must hold holds")
    return EXIT_OK


def _run_command(run, args, guard):
    return run(args)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="clipcheck", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_HELP,
        description="Check, by computation, the theory of gradient clipping under (L0,L1)-smoothness "
                    "(Zhang, He, Sra, Jadbabaie, ICLR 2020) and the results that followed it.")
    parser.add_argument("--version", action="version", version=f"clipcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("verify", help="run every claim and write the report (the main job)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXIT_HELP,
                       description="Run every claim of the registry on constructed functions, compare with the "
                                   "theorems' bounds, write DIR/report.md, DIR/report.json and figures.")
    _verify_options(p)
    p.set_defaults(handler=_run_verify)
    for name, mod, text in (("proofs", cmd_proofs, "machine-check the algebra and constants of the proofs"),
                            ("probe", cmd_probe, "measure smoothness vs gradient norm on real networks")):
        p = sub.add_parser(name, help=text, description=text)
        mod.configure(p)
        p.set_defaults(handler=functools.partial(_run_command, mod.run))
    return parser


def _log_traceback(args, exc):
    """Write the traceback to DIR/clipcheck-error.log (DIR = --out when it is a usable folder, else the temporary
    folder) and return the file's path."""
    text = (f"clipcheck {__version__}, {datetime.now(timezone.utc).isoformat(timespec='seconds')}: "
            f"{' '.join(['clipcheck'] + sys.argv[1:])}\n" + "".join(traceback.format_exception(exc)))
    for folder in (getattr(args, "out", None), tempfile.gettempdir()):
        if folder and Path(folder).is_dir():
            path = Path(folder) / ERROR_LOG
            try:
                with open(path, "a") as f:
                    f.write(text + "\n")
                return path
            except OSError:
                continue
    return None


def main(argv=None):
    """Run the command; returns the exit status. With argv None (the program itself), a Ctrl-C that arrives
    after the work is done is ignored: it must not turn a finished run into a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse's own errors exit 2 with one line
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    name = f"clipcheck {args.command}"
    stopped = f"{name}: {INTERRUPTED if args.command == 'verify' else 'interrupted'}"  # only verify keeps work
    with InterruptGuard(stopped, newline_first=sys.stderr.isatty(), ignore_after=argv is None) as guard:
        code = _run(args, guard, name, stopped)
    if argv is None and code == EXIT_INTERRUPTED:
        # everything finished is stored; tearing the interpreter down (about a second with Numba, matplotlib and
        # dask loaded) would only delay the exit the user asked for
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _run(args, guard, name, stopped):
    try:
        code = int(args.handler(args, guard) or 0)
        guard.check()  # a Ctrl-C swallowed on the way still means "interrupted"
        return code
    except BaseException as exc:
        if guard.caused(exc):
            print(stopped, file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED
        if isinstance(exc, SystemExit):
            raise
        # verify finds bad input before the work starts; elsewhere a ValueError still means bad input
        if isinstance(exc, UsageError) or (isinstance(exc, ValueError) and args.command != "verify"):
            print(f"{name}: error: {exc}", file=sys.stderr, flush=True)
            return EXIT_USAGE
        log = _log_traceback(args, exc)
        where = f"traceback in {log}" if log else "no folder to write the traceback to"
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"{name}: internal error: {type(exc).__name__}: {first} ({where})", file=sys.stderr, flush=True)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

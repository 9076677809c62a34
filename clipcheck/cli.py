"""The `clipcheck` command: verify (the main job), proofs, probe. Errors are one line, never a traceback."""
import argparse
import sys

from . import __version__, cmd_probe, cmd_proofs

EXIT_FAILED, EXIT_USAGE = 1, 2


def _verify_options(p):
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="small grids, about a minute on 2 cores (the default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the larger grids (tens of minutes on 2 cores)")
    p.set_defaults(mode="quick")
    p.add_argument("--out", default="clipcheck-report", metavar="DIR",
                   help="folder for report.md, report.json and the PNG figures (default: %(default)s)")
    p.add_argument("--only", metavar="IDS",
                   help="comma-separated claim id prefixes to run, e.g. 'ZHSJ-Thm3,FACT-M' (default: all)")
    p.add_argument("--seed", type=int, default=None,
                   help="override the seed of every sampled claim (default: each claim's recorded seed)")
    p.add_argument("--no-cache", dest="use_cache", action="store_false",
                   help="recompute every claim (by default a claim finished earlier with the same settings "
                        "and version is read from DIR/.cache, so an interrupted run resumes)")
    p.add_argument("--no-proofs", dest="with_proofs", action="store_false",
                   help="leave out the proofs_check section")
    p.add_argument("--list", action="store_true", help="list the claim ids and exit")


def _run_verify(args):
    from tqdm import tqdm

    from .claims import registry
    from .report import terminal_table
    from .verify import select, verify

    if args.list:
        for c in registry():
            print(f"{c.id:16s} {c.title}")
        return 0
    claims = select(registry(), args.only)
    bar = tqdm(total=len(claims), unit="claim", file=sys.stderr, bar_format="{desc} {n_fmt}/{total_fmt} {elapsed}")
    started = []

    def progress(claim_id):
        if started:
            bar.update(1)
        started.append(claim_id)
        bar.set_description_str(f"verify: {claim_id:14s}")

    def point_progress(name, done, total):
        bar.set_description_str(f"verify: {name:14s} point {done}/{total}")

    rows, failed, meta, proofs = verify(args.mode, args.out, args.only, args.seed, args.use_cache, progress,
                                        args.with_proofs, point_progress)
    bar.update(bar.total - bar.n)
    bar.close()
    print(terminal_table(rows))
    if proofs is not None:
        n_bad = sum(not p.passed for p in proofs)
        print(f"\nproofs_check: {len(proofs) - n_bad} of {len(proofs)} items pass")
    print(f"\n{len(rows)} rows in {meta['elapsed_s']:.0f} s; report: {args.out}/report.md, {args.out}/report.json")
    if failed:
        print(f"FAILED: {', '.join(getattr(r, 'id', '?') for r in failed)}")
        return EXIT_FAILED
    print("every claim that must hold holds")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="clipcheck",
        description="Check, by computation, the theory of gradient clipping under (L0,L1)-smoothness "
                    "(Zhang, He, Sra, Jadbabaie, ICLR 2020) and the results that followed it.")
    parser.add_argument("--version", action="version", version=f"clipcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("verify", help="run every claim and write the report (the main job)",
                       description="Run every claim of the registry on constructed functions, compare with the "
                                   "theorems' bounds, write DIR/report.md, DIR/report.json and figures. Exit "
                                   "status 0 when every claim that must hold holds, 1 otherwise, 2 on bad input.")
    _verify_options(p)
    p.set_defaults(handler=_run_verify)
    for name, mod, text in (("proofs", cmd_proofs, "machine-check the algebra and constants of the proofs"),
                            ("probe", cmd_probe, "measure smoothness vs gradient norm on real networks")):
        p = sub.add_parser(name, help=text, description=text)
        mod.configure(p)
        p.set_defaults(handler=mod.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args) or 0)
    except ValueError as err:
        print(f"clipcheck {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"clipcheck {args.command}: interrupted; finished claims are kept in the cache", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`clipcheck proofs`: machine-check the algebra and constants inside the proofs (proofs_check)."""
from __future__ import annotations

import argparse
import json
import time


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `clipcheck proofs` to `parser`."""
    parser.add_argument("--json", action="store_true", help="print the records as JSON instead of a table")
    parser.add_argument("--full", action="store_true",
                        help="also run extra instances (other polynomials and exponents); a few seconds more")
    parser.add_argument("--only", metavar="PREFIX", action="append", default=[],
                        help="run only items whose id starts with PREFIX (may be repeated), e.g. ZHSJ-Thm3")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every item's log (by default only for FAILED items and findings)")


METHODS_LEGEND = ("method: identity = follows by algebra for every parameter value (SymPy, exact rationals); "
                  "interval-rigorous = for every parameter value, transcendental numbers enclosed by interval "
                  "arithmetic; instance-only = shown for the listed instances only")


def run(args) -> int:
    """Run the checks, print a table (or JSON); exit status 1 if any item FAILED, else 0. An --only prefix that
    starts no item id is a ValueError (exit 2) before anything runs."""
    from clipcheck import proofs_check  # imported here so that `clipcheck --help` stays fast

    unknown = proofs_check.unmatched(args.only)
    if unknown:
        raise ValueError(f"--only {' '.join(unknown)}: no item id starts with that "
                         f"(ids start with e.g. ZHSJ-Thm3, FACT-M, CERT; `clipcheck proofs` lists them all)")
    t0 = time.perf_counter()
    records = proofs_check.run_all(quick=not args.full, only=args.only)
    elapsed = time.perf_counter() - t0
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
    else:
        print(_table(records, args.verbose))
        n_bad = sum(not r.passed for r in records)
        print(f"\n{len(records) - n_bad} of {len(records)} items pass ({elapsed:.1f} s)"
              + ("" if not n_bad else f"; {n_bad} FAILED"))
        print(METHODS_LEGEND)
    return 1 if any(not r.passed for r in records) else 0


def _summary(r) -> str:
    """The line of the log that carries the verdict: the first failed step, else the last 'ok' step."""
    failed = [line for line in r.log if line.startswith("FAILED")]
    if failed:
        return failed[0]
    if r.verdict == "finding":
        return r.log[-1]
    oks = [line for line in r.log if line.startswith("ok")]
    return oks[-1] if oks else (r.log[-1] if r.log else "")


def _table(records, verbose=False) -> str:
    w = max(len(r.id) for r in records)
    lines = [f"{'id':<{w}}  {'method':<17}  {'verdict':<8}  summary", "-" * (w + 100)]
    for r in records:
        s = _summary(r)
        lines.append(f"{r.id:<{w}}  {r.method:<17}  {r.verdict:<8}  {s[:110] + ('...' if len(s) > 110 else '')}")
        if verbose or r.verdict != "proved":
            lines += [f"{'':<{w}}    | {line}" for line in r.log]
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def records_to_markdown(records) -> str:
    """A markdown section (table + details of FAILED items and findings) for the verify report."""
    n_bad = sum(not r.passed for r in records)
    out = [f"{len(records) - n_bad} of {len(records)} items pass. \"proved\": every step shown by SymPy, exact "
           "rational arithmetic or interval arithmetic; \"FAILED\": the claimed constant does not follow from the "
           "derivation (with the needed value); \"finding\": reported, never failing (the open question of "
           "ZHSJ-Thm4). Every constant is read from clipcheck.theory, so these are the constants the library "
           "uses.", "", METHODS_LEGEND[0].upper() + METHODS_LEGEND[1:] + ".", "",
           "| id | statement | method | verdict | constants | summary |", "|---|---|---|---|---|---|"]
    for r in records:
        consts = ", ".join(f"{k}={v}" for k, v in r.to_dict()["constants"].items() if not isinstance(v, (dict, list)))
        verdict = f"**{r.verdict}**" if r.verdict != "proved" else r.verdict
        out.append(f"| {_md(r.id)} | {_md(r.statement)} | {r.method} | {verdict} | {_md(consts)} | {_md(_summary(r))} |")
    for r in records:
        if r.verdict != "proved":
            out += ["", f"### {r.id}: {r.verdict}", ""] + [f"- {_md(line)}" for line in r.log]
    return "\n".join(out)

"""report.md, report.json and the terminal table, from the rows of a verify run."""
import json
import math
import numbers

from clipcheck.synthetic.sweep import atomic_write

from .records import STATUS_LABELS


def _num(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "-"
        return f"{v:.4g}"
    return str(v)


def _md(text):
    """Table cells: a literal | (as in ||x||^2) would split the cell."""
    return str(text).replace("|", "\\|")


def _measured(r):
    """The measured cell: "> budget" for a run that did not finish within it."""
    return f"> {_num(r.measured)}" if r.censored else _num(r.measured)


def _upper(r, value):
    """A column of upper-bound rows only (blank for the others)."""
    return _num(value) if r.is_upper_bound else ""


def terminal_table(rows):
    head = ("id", "constants", "measured", "bound", "ratio", "adversary", "needed c", "verdict")
    body = [(r.id, r.status, _measured(r), _num(r.bound), _num(r.ratio), _upper(r, r.adversarial_ratio),
             _upper(r, r.needed_constant), r.verdict) for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def _non_finite(v):
    """'inf', '-inf' or 'nan' for a non-finite real number, else None."""
    if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return None


def _json_safe(obj, why=None, where=""):
    """JSON has no inf/nan: write null, and in the enclosing object's "non_finite" field name the value that was
    there ({"ratio": null, "non_finite": {"ratio": "inf"}}; list entries as "key[i]")."""
    kind = _non_finite(obj)
    if kind is not None:
        if why is not None:
            why[where] = kind
        return None
    if isinstance(obj, dict):
        own = {}
        out = {k: _json_safe(v, own, str(k)) for k, v in obj.items()}
        if own:
            out["non_finite"] = own
        return out
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v, why, f"{where}[{i}]") for i, v in enumerate(obj)]
    return obj


def _plain(v):
    """numpy scalars and arrays as plain numbers and lists; anything else as its text."""
    if hasattr(v, "tolist"):
        return v.tolist()
    return str(v)


def to_strict_json(doc, indent=1):
    """Valid JSON (RFC 8259) for `doc`: non-finite numbers as null with the reason beside them."""
    return json.dumps(_json_safe(json.loads(json.dumps(doc, default=_plain))), indent=indent, allow_nan=False)


def write_json(path, meta, rows, proofs=None):
    doc = {"meta": meta, "claims": [r.to_dict() for r in rows]}
    if proofs is not None:
        doc["proofs"] = [p.to_dict() for p in proofs]
    atomic_write(path, to_strict_json(doc))


# Where the 1-D adversary's worst case can fall short of the true one (THEOREMS.md 4b, 4c).
ADVERSARY_LIMITS = (
    "The adversary is 1-D: its worst case is a lower estimate of the true one, which it cannot reach where the worst "
    "case needs d >= 2. Known case (THEOREMS.md 4c): fixed-step GD on L-smooth f with h > 1/L, whose exact worst "
    "case is a planar zigzag. No row uses such a step: with L1 = 0 every row's step is at most 1/L, where the search "
    "reproduces the exact worst case of GD after n steps within 1% (tests/test_adversary_search.py). For L1 > 0 no "
    "certified multi-dimensional family is known, so whether a row's worst case needs d >= 2 is open; for the Thm 4 "
    "lower bound in d >= 2 see THEOREMS.md 4c and the proof check ZHSJ-Thm4:open-question.")


def write_markdown(path, meta, rows, failed, proofs_md=""):
    out = ["# clipcheck verify report", ""]
    out.append(f"**Result: {'all claims that must hold hold' if not failed else f'{len(failed)} FAILED'}** "
               f"({len(rows)} rows, mode `{meta['mode']}`, {meta['elapsed_s']:.0f} s).")
    out.append("")
    out.append("Verdicts: upper bounds and facts *holds* / *VIOLATED* (a certified counterexample); lower bounds "
               "*demonstrated* / *not demonstrated by this construction* (a finding about the construction, not a "
               "failure of the theorem). Ratio = measured / bound (upper bounds: <= 1 holds; lower bounds: >= 1 "
               "demonstrates). An upper-bound row is decided by the worst of the catalogue's certified instances "
               "and the 1-D adversary's (certified by construction, replayed through the runner); *adversary* is "
               "the adversary's worst ratio, *needed constant* = ratio x the row's constant: the smallest constant "
               "this check would reject.")
    out.append("")
    out.append(ADVERSARY_LIMITS)
    out.append("")
    out.append("| id | constants | measured | bound | ratio | adversary | needed constant | verdict |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        verdict = f"**{r.verdict}**" if r.failed else r.verdict
        out.append(f"| {_md(r.id)} | {STATUS_LABELS.get(r.status, r.status)} | {_md(_measured(r))} | "
                   f"{_num(r.bound)} | {_num(r.ratio)} | {_upper(r, r.adversarial_ratio)} | "
                   f"{_upper(r, r.needed_constant)} | {verdict} |")
    out.append("")
    seen = set()
    for r in rows:
        if r.figure and r.figure not in seen:
            seen.add(r.figure)
            out += [f"## {r.id.split(':')[0]}", "", f"![{r.id}]({r.figure})", ""]
    out += ["## Details", ""]
    for r in rows:
        out.append(f"- **{r.id}** ({STATUS_LABELS.get(r.status, r.status)}): {r.statement}. {r.note}")
        if r.columns:
            out.append("  - columns: " + "; ".join(f"{k} = {v}" for k, v in r.columns.items()))
        if r.instance:
            shown = {k: v for k, v in r.instance.items() if k != "profile"}  # a profile has thousands of knots
            more = " (its profile: in report.json)" if "profile" in r.instance else ""
            out.append(f"  - deciding instance{more}: `{to_strict_json(shown, indent=None)}`")
    if proofs_md:
        out += ["", "## Proof checks (proofs_check)", "", proofs_md]
    out += ["", "## Run", "", "```", to_strict_json(meta), "```", ""]
    atomic_write(path, "\n".join(out))

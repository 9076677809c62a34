"""report.md, report.json and the terminal table, from the rows of a verify run."""
import json
import math
from pathlib import Path

from .claims import STATUS_LABELS


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


def terminal_table(rows):
    head = ("id", "constants", "measured", "bound", "ratio", "verdict")
    body = [(r.id, r.status, _num(r.measured), _num(r.bound), _num(r.ratio), r.verdict) for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def _json_safe(obj):
    """JSON has no inf/nan: write them as strings so the file stays valid JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "inf" if obj > 0 else ("-inf" if obj < 0 else "nan")
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def write_json(path, meta, rows, proofs=None):
    doc = {"meta": meta, "claims": [r.to_dict() for r in rows]}
    if proofs is not None:
        doc["proofs"] = [p.to_dict() for p in proofs]
    Path(path).write_text(json.dumps(_json_safe(doc), indent=1, default=str))


def write_markdown(path, meta, rows, failed, proofs_md=""):
    out = ["# clipcheck verify report", ""]
    out.append(f"**Result: {'all claims that must hold hold' if not failed else f'{len(failed)} FAILED'}** "
               f"({len(rows)} rows, mode `{meta['mode']}`, {meta['elapsed_s']:.0f} s).")
    out.append("")
    out.append("Verdicts: upper bounds and facts *holds* / *VIOLATED* (a certified counterexample); lower bounds "
               "*demonstrated* / *not demonstrated by this construction* (a finding about the construction, not a "
               "failure of the theorem). Ratio = measured / bound (upper bounds: <= 1 holds; lower bounds: >= 1 "
               "demonstrates).")
    out.append("")
    out.append("| id | constants | measured | bound | ratio | verdict |")
    out.append("|---|---|---|---|---|---|")
    for r in rows:
        verdict = f"**{r.verdict}**" if r.failed else r.verdict
        out.append(f"| {_md(r.id)} | {STATUS_LABELS.get(r.status, r.status)} | {_num(r.measured)} | "
                   f"{_num(r.bound)} | {_num(r.ratio)} | {verdict} |")
    out.append("")
    seen = set()
    for r in rows:
        if r.figure and r.figure not in seen:
            seen.add(r.figure)
            out += [f"## {r.id.split(':')[0]}", "", f"![{r.id}]({r.figure})", ""]
    out += ["## Details", ""]
    for r in rows:
        out.append(f"- **{r.id}** ({STATUS_LABELS.get(r.status, r.status)}): {r.statement}. {r.note}")
        if r.instance:
            out.append(f"  - deciding instance: `{json.dumps(_json_safe(r.instance), default=str)}`")
    if proofs_md:
        out += ["", "## Proof checks (proofs_check)", "", proofs_md]
    out += ["", "## Run", "", "```", json.dumps(_json_safe(meta), indent=1, default=str), "```", ""]
    Path(path).write_text("\n".join(out))

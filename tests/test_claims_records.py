"""Claims as records (issue 9, item 6; DESIGN.md "The main job"): one registry list, rows and verdicts in a bottom
module, no module of the application importing one above it, and the report's upper-bound columns."""
import ast
import math
from pathlib import Path

from clipcheck import claims
from clipcheck.records import HOLDS, MEASURED, Row
from clipcheck.report import terminal_table, write_json, write_markdown

APP = Path(claims.__file__).resolve().parent

# The application's claim layers, bottom first: a module may import only modules of lower layers.
LAYERS = [{"records"}, {"upper"}, {"experiments", "experiments_stochastic", "plots", "plots_stochastic"}, {"claims"}]


def _own_imports(module):
    """The clipcheck.* application modules that `module` imports, anywhere in it (also inside functions)."""
    tree = ast.parse((APP / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names.update([node.module] if node.module else [a.name for a in node.names])
            elif node.module and node.module.startswith("clipcheck.") and node.module.count(".") == 1:
                names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("clipcheck.")
                         and a.name.count(".") == 1)
    return {n.split(".")[0] for n in names}


def test_no_claim_module_imports_one_above_it_or_beside_it():
    level = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    for module, i in level.items():
        for target in _own_imports(module):
            if target in level:
                assert level[target] < i or (module, target) == ("plots_stochastic", "plots"), (module, target)


def test_the_registry_is_one_list_of_unique_ids_with_quick_and_full_settings():
    entries = claims.registry()
    ids = [c.id for c in entries]
    assert len(ids) == len(set(ids))
    assert all(set(c.settings) == {"quick", "full"} for c in entries)
    # every upper-bound record of the claim modules is registered, with the constants its rows check
    records = [getattr(m, k) for m in (claims.ex, claims.es) for k in dir(m)
               if type(getattr(m, k)).__name__ == "UpperBound"]
    for rec in records:
        entry = next(c for c in entries if c.id == rec.id)
        assert entry.constants() == {rec.row_id(r): r.constant() for r in rec.rows}


def _rows():
    upper = Row("X-Thm", "derived", "T <= c", {}, 90.0, 100.0, 0.9, HOLDS, {"source": "adversary"}, constant=2.0,
                needed_constant=1.8, adversarial_ratio=0.9)
    censored = Row("HEAD:r", "later", "T", {}, 2e5, math.nan, math.nan, MEASURED, censored=True,
                   columns={"measured": "T_eps"})
    return upper, censored


def test_report_shows_the_adversary_and_needed_constant_for_upper_bounds_only(tmp_path):
    upper, censored = _rows()
    meta = {"mode": "quick", "elapsed_s": 1.0}
    write_markdown(tmp_path / "report.md", meta, [upper, censored], [])
    md = (tmp_path / "report.md").read_text()
    assert "| adversary | needed constant |" in md
    assert "| X-Thm | derived for clipcheck | 90 | 100 | 0.9 | 0.9 | 1.8 | holds |" in md
    assert "| > 2e+05 | - | - |  |  |" in md  # censored: "> budget", and no constant columns
    assert "columns: measured = T_eps" in md
    write_json(tmp_path / "report.json", meta, [upper, censored])
    import json
    doc = json.loads((tmp_path / "report.json").read_text())["claims"]
    assert doc[0]["needed_constant"] == 1.8 and "needed_constant" not in doc[1] and doc[1]["censored"]
    assert "> 2e+05" in terminal_table([censored])


def test_report_says_where_the_worst_case_needs_two_dimensions_and_no_row_steps_beyond_1_over_L(tmp_path):
    """Issue 9, item 3: the report says where the 1-D adversary cannot reach the worst case (d >= 2: GD with
    h > 1/L, THEOREMS.md 4c) and that no row uses such a step. The second half is checked here, not assumed: with
    L1 = 0 every upper-bound row the adversary searches steps at most 1/L0 at every gradient norm (analytic fact of
    each rule's formula; 1e-12 relative is rounding of the step formulas)."""
    import numpy as np

    from clipcheck import experiments as E
    from clipcheck import experiments_stochastic as ES
    from clipcheck.adversary.rules import resolve
    from clipcheck.records import Context
    from clipcheck.report import ADVERSARY_LIMITS

    write_markdown(tmp_path / "report.md", {"mode": "quick", "elapsed_s": 1.0}, list(_rows()), [])
    assert ADVERSARY_LIMITS in (tmp_path / "report.md").read_text()
    assert "d >= 2" in ADVERSARY_LIMITS and "h > 1/L" in ADVERSARY_LIMITS
    L0 = 2.0
    ctx = Context(L0, 0.0, 0.01, 1.0, 5.0)
    for ub in (E.CLASSIC_RECORD, E.THM3_RECORD, E.THM6_RECORD, E.NGD_RECORD, ES.VANKOV_NONCONVEX, ES.LI_RECORD):
        for row in ub.rows:
            rule = resolve(row.rule)
            q = np.array([float(v) for v in rule.values(row.params(ctx), tau=0.0)])
            state = np.zeros(max(1, len(rule.init_state)))
            for g in np.logspace(-6, 6, 25):
                assert rule.step(g, state, q, 0) <= (1 + 1e-12) / L0, (ub.row_id(row), g)

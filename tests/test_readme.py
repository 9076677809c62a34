"""The README's library example runs as printed, and its first commands are the ones .ci/run executes."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_example_runs_and_respects_zhsj_thm3(capsys):
    # ZHSJ-Thm3 (derived): every count the example prints must be within the bound it prints
    block = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    scope = {}
    exec(compile(block, "README.md", "exec"), scope)
    res, bound = scope["res"], scope["bounds"].zhsj_thm3_clipped_gd(
        scope["L0"], scope["L1"], scope["delta"], scope["eps"], constants="derived")
    assert (res.status == 0).all() and (res.iterations <= bound).all()


def test_readme_own_function_rule_and_bound_example_runs_as_written(tmp_path, monkeypatch, capsys):
    # the open-runner issue's worked example: a SymPy function certified by intervals, a user's rule, a bound check
    block = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "Rule.from_numba" in b][0]
    monkeypatch.chdir(tmp_path)  # it writes its figure into the working directory
    path = tmp_path / "example.py"  # a file, so that the user's njit rule has a source the kernels can paste
    path.write_text(block)
    scope = {"__name__": "readme_example"}
    exec(compile(block, str(path), "exec"), scope)
    out = capsys.readouterr().out.split("\n")
    assert out[0] == "certified"  # ||x||^4/4 has sup ratio 3/3.1 at (1.1, 2): an interval proof closes
    assert out[1].startswith("holds") and scope["check"].holds
    assert (tmp_path / "soft_clip_check.png").stat().st_size > 1000


def test_ci_runs_the_readme_commands():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)[:2]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "clipcheck verify" in commands[0] and "pytest" in commands[1]
    assert all(c in ci for c in commands)


def test_readme_adversary_example_reaches_the_exact_worst_case(capsys):
    # L1 = 0: the exact 1-D worst case of n GD steps is 1/(n h (1 - hL/4) + 1/(2L)) (derived in
    # tests/test_adversary_search.py); the adversary's certified value must reach it
    block = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "worst_case(" in b][0]
    scope = {}
    exec(compile(block, "README.md", "exec"), scope)
    found, exact = (float(line.split()[0]) for line in capsys.readouterr().out.splitlines()[:2])
    assert scope["wc"].certified and abs(found - exact) <= 1e-8 * exact  # the search's stated accuracy at L1 = 0

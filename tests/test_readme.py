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


def test_ci_runs_the_readme_commands():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)[:2]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "clipcheck verify" in commands[0] and "pytest" in commands[1]
    assert all(c in ci for c in commands)

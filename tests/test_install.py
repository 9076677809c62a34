"""Packaging (open-runner issue, item 1): the top-level folders install as subpackages of clipcheck only.

Each check runs a fresh interpreter from a directory outside the repository, so the repository root is not on
sys.path and only what the install provides can be imported.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("theory", "synthetic", "proofs_check", "gpu", "adversary")


def _python(code, cwd, extra_path=None):
    prefix = f"import sys; sys.path.insert(0, {str(extra_path)!r}); " if extra_path else ""
    return subprocess.run([sys.executable, "-c", prefix + code], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_installed_only_under_the_clipcheck_namespace(name, tmp_path):
    ok = _python(f"import clipcheck.{name} as m; print(m.__name__)", tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"clipcheck.{name}"
    top = _python(f"import {name}", tmp_path)
    assert top.returncode != 0 and "No module named" in top.stderr


@pytest.mark.slow
def test_non_editable_install_runs_verify_from_another_directory(tmp_path):
    # a wheel build into a target folder: the layout a non-editable `pip install .` produces. It builds from a copy,
    # since setuptools builds in the source tree (it left a stale build/lib copy of the package in the repository)
    target, source = tmp_path / "site", tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                "clipcheck-report", "clipcheck-probe"))
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                            "--target", str(target), str(source)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    assert {p.name for p in target.iterdir()} & set(SUBPACKAGES) == set()
    assert (target / "clipcheck" / "gpu" / "fixtures" / "ptb" / "ptb.train.txt").exists()
    run = _python("import clipcheck, sys; from clipcheck.cli import main; "
                  "assert clipcheck.__file__.startswith(sys.path[0]), clipcheck.__file__; "
                  "sys.exit(main(['verify', '--only', 'FACT-M', '--no-proofs', '--out', 'rep']))",
                  tmp_path, extra_path=target)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert (tmp_path / "rep" / "report.json").exists()

"""`clipcheck verify` exit codes (issue 10, item 5): 0 every claim holds, 1 a certified counterexample, 2 bad input
found before any work starts, 3 an internal error (one line, the traceback in a log file in --out).

"Before any work" is checked by a claim whose compute records that it ran: bad input must leave it unrun."""
import os
import subprocess
import sys

import pytest

from clipcheck import cli, experiments

FAST = "NGD-equiv"  # a claim that takes milliseconds


@pytest.fixture
def computed(monkeypatch):
    """The claims computed during the test (NGD-equiv, whose compute is wrapped)."""
    ran = []
    real = experiments.ngd_equiv

    def recording(settings):
        ran.append(FAST)
        return real(settings)

    monkeypatch.setattr(experiments, "ngd_equiv", recording)
    return ran


def _verify(capsys, *args):
    code = cli.main(["verify", "--only", FAST, "--no-proofs", *args])
    return code, capsys.readouterr().err


def _one_error_line(err, name):
    lines = [line for line in err.splitlines() if "error" in line]
    return len(lines) == 1 and name in lines[0] and "Traceback" not in err


def test_out_pointing_at_a_file_is_bad_input_found_before_any_work(tmp_path, capsys, computed):
    (tmp_path / "report").write_text("a file")
    code, err = _verify(capsys, "--out", str(tmp_path / "report"))
    assert code == cli.EXIT_USAGE and _one_error_line(err, "--out") and computed == []


def test_out_below_a_file_is_bad_input_found_before_any_work(tmp_path, capsys, computed):
    (tmp_path / "file").write_text("a file")
    code, err = _verify(capsys, "--out", str(tmp_path / "file" / "report"))
    assert code == cli.EXIT_USAGE and _one_error_line(err, "--out") and computed == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_is_bad_input_found_before_any_work(tmp_path, capsys, computed):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, err = _verify(capsys, "--out", str(locked))
    finally:
        locked.chmod(0o755)
    assert code == cli.EXIT_USAGE and _one_error_line(err, "--out") and computed == []


@pytest.mark.parametrize("seed", ["-1", "1.5", "x", str(2**63)])
def test_seed_must_be_a_non_negative_integer_found_before_any_work(seed, tmp_path, capsys, computed):
    with pytest.raises(SystemExit) as stop:  # argparse's own exit
        _verify(capsys, "--out", str(tmp_path), "--seed", seed)
    assert stop.value.code == cli.EXIT_USAGE and _one_error_line(capsys.readouterr().err, "--seed")
    assert computed == []


def test_unknown_only_id_is_bad_input_found_before_any_work(tmp_path, capsys, computed):
    code = cli.main(["verify", "--only", f"{FAST},nonsense", "--out", str(tmp_path)])
    assert code == cli.EXIT_USAGE and _one_error_line(capsys.readouterr().err, "--only") and computed == []


def test_crash_inside_a_claim_is_an_internal_error_with_a_logged_traceback(tmp_path, capsys, monkeypatch):
    def crash(settings):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(experiments, "ngd_equiv", crash)
    code, err = _verify(capsys, "--out", str(tmp_path))
    assert code == cli.EXIT_INTERNAL
    lines = [line for line in err.splitlines() if "internal error" in line]
    assert len(lines) == 1 and "ZeroDivisionError" in lines[0] and cli.ERROR_LOG in lines[0]
    assert "Traceback" not in err
    log = (tmp_path / cli.ERROR_LOG).read_text()
    assert "Traceback" in log and "in crash" in log and "ZeroDivisionError: float division by zero" in log


def test_value_error_inside_a_claim_is_internal_not_bad_input(tmp_path, capsys, monkeypatch):
    # a ValueError deep in the computation is a bug of clipcheck, not the user's input
    def crash(settings):
        raise ValueError("eps must be > 0")

    monkeypatch.setattr(experiments, "ngd_equiv", crash)
    code, err = _verify(capsys, "--out", str(tmp_path))
    assert code == cli.EXIT_INTERNAL and "internal error" in err


def test_exit_codes_are_listed_by_help():
    out = subprocess.run([sys.executable, "-m", "clipcheck.cli", "verify", "--help"], capture_output=True,
                         text=True).stdout
    section = out[out.index("exit status"):]
    for code, meaning in (("0", "every claim"), ("1", "counterexample"), ("2", "bad input"),
                          ("3", "internal error"), ("130", "interrupted")):
        assert any(line.split()[:1] == [code] and meaning in line for line in section.splitlines()), code

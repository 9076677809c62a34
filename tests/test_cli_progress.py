"""What `clipcheck verify` writes on stderr (issue 10, item 7): whole lines when stderr is not a terminal (one per
claim, grid points at most every few seconds, no carriage return), the progress bar on a terminal, and messages
always at the start of a line."""
import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios

from clipcheck.progress import Progress


def test_log_file_gets_one_line_per_claim_and_no_carriage_return(tmp_path):
    # the issue: "a 10-minute run logged 38 \r and no newline"
    p = subprocess.run([sys.executable, "-m", "clipcheck.cli", "verify", "--only", "NGD-equiv,FACT-M", "--no-proofs",
                        "--jobs", "2", "--out", str(tmp_path)], capture_output=True, cwd=tmp_path)  # bytes: text mode eats \r
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert "\r" not in err
    lines = err.splitlines()
    # two claims in two workers run side by side, the heavier first (Claim.weight; a stable sort, as workers.run's)
    from clipcheck.claims import registry
    weight = {c.id: c.weight for c in registry()}
    order = sorted(["NGD-equiv", "FACT-M"], key=lambda cid: -weight[cid])
    assert [line for line in lines if line.startswith("verify: [")] == [f"verify: [1/2] {order[0]}",
                                                                         f"verify: [2/2] {order[1]}"]


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_grid_points_are_logged_at_most_every_few_seconds():
    clock, log = FakeClock(), io.StringIO()
    progress = Progress(1, stream=log, tty=False, every=5.0, clock=clock)
    progress.claim("ZHSJ-Remark5")
    for t, done in ((1, 1), (2, 2), (4.9, 3), (5.0, 4), (6, 5), (10.1, 6), (10.2, 7)):
        clock.t = t
        progress.point("ZHSJ-Remark5", done, 7)
    # expected by the rule "a line when 5 s have passed since the last line": points 4 (t = 5) and 6 (t = 10.1)
    assert log.getvalue().splitlines() == ["verify: [1/1] ZHSJ-Remark5", "verify: ZHSJ-Remark5 point 4/7",
                                           "verify: ZHSJ-Remark5 point 6/7"]


def test_messages_start_on_their_own_line_in_a_log():
    log = io.StringIO()
    progress = Progress(2, stream=log, tty=False)
    progress.claim("NGD-equiv")
    progress.say("clipcheck verify: cache entry x.json is damaged")
    assert log.getvalue().splitlines()[-1] == "clipcheck verify: cache entry x.json is damaged"


def _run_on_a_terminal(args, cwd):
    """Run a command with stdout and stderr on a pseudo-terminal; returns (exit status, everything written)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # 30 x 100: room for the bar
    p = subprocess.Popen(args, stdout=follower, stderr=follower, cwd=cwd)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return p.wait(), b"".join(chunks).decode(errors="replace")


def test_terminal_keeps_the_bar_and_an_error_starts_on_its_own_line(tmp_path):
    # a row id no row of the claim has: found once the claim is computed, while the bar is showing
    code, text = _run_on_a_terminal([sys.executable, "-m", "clipcheck.cli", "verify", "--only", "NGD-equiv:nonsense",
                                     "--no-proofs", "--out", str(tmp_path)], tmp_path)
    assert code == 2
    assert "\rverify: NGD-equiv" in text  # the bar, redrawn in place
    message = text.index("clipcheck verify: error: --only ngd-equiv:nonsense")
    assert text[message - 1] == "\n"  # the terminal's line discipline writes \r\n

"""Live output at the interactive prompt, in a real pseudo-terminal (pexpect): client lines printed while a
command is being typed go above the prompt and leave the typed text intact; the stdout client prints a short
human line per call at the prompt and JSON elsewhere; `top` draws, refreshes, and leaves on `q` and on Ctrl-C
with the terminal restored; without a terminal it prints plain lines."""

import json
import re
import threading
import urllib.request
import uuid

import pexpect

from conftest import isolated_env

PROMPT = "playcount> "
LEAVE_ALTERNATE_SCREEN = "\x1b[?1049l"


def spawn(playcount_bin, home):
    child = pexpect.spawn(str(playcount_bin), env=isolated_env(home, TERM="xterm"), cwd=str(home),
                          encoding="utf-8", timeout=20, dimensions=(40, 160))
    child.expect_exact("Type 'help' for commands")
    child.expect_exact(PROMPT)
    return child


def run_line(child, line, expected=None):
    child.send(line + "\r")
    if expected:
        child.expect(expected)
    child.expect_exact(PROMPT)


class PlayFeed:
    """Publishes one play of a new video (so one realtime call) every 50 ms through nsqd's HTTP /pub, until
    stopped; each play's call prints a line while the test types."""

    def __init__(self, http_address: str):
        self.http_address = http_address
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            body = json.dumps({"video_id": str(uuid.uuid4())}).encode()
            request = urllib.request.Request(f"http://{self.http_address}/pub?topic=plays", data=body, method="POST")
            urllib.request.urlopen(request, timeout=10).read()
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)


def test_a_command_typed_while_calls_are_printed_stays_intact_and_runs(playcount_bin, tmp_path):
    child = spawn(playcount_bin, tmp_path)
    try:
        child.send("broker start\r")
        child.expect(r"HTTP (\S+)\r\n")
        http_address = child.match.group(1)
        child.expect_exact(PROMPT)
        run_line(child, "start")
        with PlayFeed(http_address):
            child.send("echo typed-")
            # Calls arrive while the line is half typed: each is a short human line, and the prompt is redrawn
            # with what was typed after it.
            for _ in range(3):
                child.expect(r"call \d+ · 1 video · \+1 play\r\n")
                child.expect_exact(PROMPT + "echo typed-")
            child.send("intact\r")
            child.expect_exact("\r\ntyped-intact\r\n")
        run_line(child, "stop")
        child.send("quit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_top_draws_refreshes_and_leaves_on_q_and_on_ctrl_c(playcount_bin, tmp_path):
    child = spawn(playcount_bin, tmp_path)
    try:
        run_line(child, "seed 300 zipf --videos 20 --small 15")
        run_line(child, "start")
        child.send("top --interval 100ms\r")
        child.expect_exact("\x1b[?1049h")  # the alternate screen
        child.expect_exact("playcount top")
        child.expect(r"calls +\d+ made")
        child.expect_exact("playcount top")  # refreshed
        child.send("q")
        child.expect_exact(LEAVE_ALTERNATE_SCREEN)
        child.expect_exact(PROMPT)

        child.send("top --interval 100ms\r")
        child.expect_exact("playcount top")
        child.sendintr()
        child.expect_exact(LEAVE_ALTERNATE_SCREEN)
        child.expect_exact(PROMPT)
        # The terminal is restored: what is typed is echoed again, and the line runs.
        child.send("echo after-top\r")
        child.expect_exact("echo after-top\r\nafter-top\r\n")
        child.expect_exact(PROMPT)
        run_line(child, "stop")
        child.send("quit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_without_a_terminal_top_prints_plain_lines_and_stdout_keeps_json(playcount):
    result = playcount("-c", "seed 200 zipf --videos 20 --small 15; start; wait drained; "
                             "top --count 3 --interval 100ms; stop")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    tops = [line for line in lines if line.startswith("top ")]
    assert len(tops) == 3, result.stdout
    assert all(re.match(r"top \d\d:\d\d:\d\d running · calls \d+ \(bound \d+, [\d.]+\) · ", line) for line in tops)
    assert "\x1b[" not in result.stdout
    calls = [json.loads(line) for line in lines if line.startswith("{")]
    assert calls and sum(1 for _ in calls) == int(re.search(r"calls (\d+)", tops[-1]).group(1))

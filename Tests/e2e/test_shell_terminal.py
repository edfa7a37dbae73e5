"""The interactive shell in a real pseudo-terminal (pexpect): libedit editing, completion, history,
Ctrl-C and Ctrl-D. HOME and XDG_STATE_HOME point into a temporary directory."""

import time

import pexpect
import pytest

from conftest import isolated_env

PROMPT = "playcount> "


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir(exist_ok=True)
    return path


def spawn(playcount_bin, home, cwd=None, **env):
    child = pexpect.spawn(str(playcount_bin), env=isolated_env(home, TERM="xterm", **env), cwd=str(cwd or home),
                          encoding="utf-8", timeout=10, dimensions=(40, 160))
    child.expect_exact("Type 'help' for commands")
    child.expect_exact(PROMPT)
    return child


def finish(child):
    """Leaves with Ctrl-D and returns the exit status.

    Ctrl-D is sent again while the shell is still there: once, with two busy loops beside the suite, the shell
    never saw it (nothing printed, no exit), as if it arrived while libedit was resetting the terminal for the
    next line. A shell that does not end at all still fails here."""
    for _ in range(6):
        child.sendeof()
        if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10) == 0:
            break
    else:
        raise AssertionError(f"the shell did not end on Ctrl-D; it printed {child.before!r}")
    child.close()
    return child.exitstatus


def run_line(child, line, expected):
    child.send(line + "\r")
    child.expect_exact(expected)
    child.expect_exact(PROMPT)


def test_tab_completes_a_command_name(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        child.send("ec\t")
        child.expect_exact("ho ")  # libedit redraws the completed word
        run_line(child, "completed", "\r\ncompleted\r\n")
        assert finish(child) == 0
    finally:
        child.close(force=True)


def test_tab_completes_options_and_setting_names(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        child.send("show --j\t")
        child.expect_exact("son ")
        run_line(child, "", '"name" : "topic"')
        child.send("set chan\t")
        child.expect_exact("nel ")
        child.send("tab-made\r")
        child.expect_exact(PROMPT)
        run_line(child, "expect channel == tab-made; echo checked", "checked")
    finally:
        child.close(force=True)


def test_tab_completes_file_paths_for_source(playcount_bin, home):
    (home / "scenario-one.pc").write_text("echo from the file\n")
    child = spawn(playcount_bin, home)
    try:
        child.send("source scen\t")
        child.expect_exact("ario-one.pc")
        run_line(child, "", "\r\nfrom the file\r\n")
    finally:
        child.close(force=True)


def test_up_arrow_recalls_the_previous_line(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        run_line(child, "echo first-line", "\r\nfirst-line\r\n")
        child.send("\x1b[A")
        child.expect_exact("echo first-line")
        child.send("\r")
        child.expect_exact("\r\nfirst-line\r\n")
        child.expect_exact(PROMPT)
    finally:
        child.close(force=True)


def test_ctrl_d_leaves_and_saves_history(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        run_line(child, "echo one", "\r\none\r\n")
        run_line(child, "set topic t2", "")
        assert finish(child) == 0
    finally:
        child.close(force=True)
    history = home / "state" / "playcount" / "history"
    assert history.read_text() == "echo one\nset topic t2\n"

    # A new session starts with that history: Up recalls the last line.
    again = spawn(playcount_bin, home)
    try:
        again.send("\x1b[A")
        again.expect_exact("set topic t2")
    finally:
        again.close(force=True)


def test_quit_and_exit_leave_and_save_history(playcount_bin, home, tmp_path):
    custom = tmp_path / "custom" / "hist"
    child = spawn(playcount_bin, home, PLAYCOUNT_HISTORY=str(custom))
    try:
        run_line(child, "echo x", "\r\nx\r\n")
        child.send("exit 5\r")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 5
    finally:
        child.close(force=True)
    assert custom.read_text() == "echo x\nexit 5\n"
    assert not (home / "state").exists()


def test_ctrl_c_interrupts_sleep_and_the_shell_survives(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        child.send("sleep 10\r")
        child.expect_exact("sleep 10\r\n")
        time.sleep(0.3)  # the command is running; Ctrl-C must cut it short
        started = time.monotonic()
        child.sendintr()
        child.expect_exact("interrupted")
        child.expect_exact(PROMPT, timeout=1)
        assert time.monotonic() - started < 1.0
        run_line(child, "echo alive", "\r\nalive\r\n")
    finally:
        child.close(force=True)


def test_ctrl_c_at_the_prompt_drops_the_line(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        child.send("echo dropped")
        child.expect_exact("echo dropped")
        child.sendintr()
        child.expect_exact(PROMPT)
        run_line(child, "echo kept", "\r\nkept\r\n")
        assert "\r\ndropped\r\n" not in child.before
        assert finish(child) == 0
    finally:
        child.close(force=True)
    assert (home / "state" / "playcount" / "history").read_text() == "echo kept\n"


def test_non_ascii_round_trips(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        run_line(child, "echo héllo wörld ✓ 日本", "\r\nhéllo wörld ✓ 日本\r\n")
        assert finish(child) == 0
    finally:
        child.close(force=True)
    assert "echo héllo wörld ✓ 日本" in (home / "state" / "playcount" / "history").read_text()


def test_errors_at_the_prompt_have_no_location(playcount_bin, home):
    child = spawn(playcount_bin, home)
    try:
        run_line(child, "expect topic == nope", "error: expected topic == nope, got plays")
        run_line(child, "echo still", "\r\nstill\r\n")
    finally:
        child.close(force=True)


def test_piped_runs_never_touch_the_history_file(playcount, tmp_path):
    result = playcount(stdin="echo piped\n")
    assert result.code == 0
    assert not (tmp_path / "home" / "state").exists()
    assert not (tmp_path / "home" / ".local").exists()

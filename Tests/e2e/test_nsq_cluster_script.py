"""Scripts/nsq-cluster: a clear refusal when NSQ's binaries are not installed, and usage on bad input."""
import os
import pathlib
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "Scripts" / "nsq-cluster"


def run(*args, path="/usr/bin:/bin"):
    env = dict(os.environ, PATH=path, NSQ_CLUSTER_DIR="/nonexistent-playcount-test")
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=30)


def test_start_refuses_clearly_without_nsq_binaries():
    result = run("start", "2")
    assert result.returncode == 1
    assert "'nsqlookupd' is not installed" in result.stderr
    assert "embedded broker" in result.stderr


def test_unknown_verb_prints_usage_and_exits_64():
    result = run("launch")
    assert result.returncode == 64
    assert "Scripts/nsq-cluster start [N]" in result.stderr


def test_status_and_stop_without_a_cluster_are_quiet():
    assert run("status").stdout.strip() == "not started"
    assert run("stop").returncode == 0

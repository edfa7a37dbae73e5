"""The processor commands' contract in the shell: JSON fields of status/stats, and the error paths (start twice,
stop or wait while not running, a wait that times out, a client that never accepts)."""

import subprocess

import pytest

from conftest import free_port
from processor_helpers import ShellSession, WebhookServer, json_documents

STATUS_FIELDS = {"broker", "connections", "processing", "processor", "processorStatus", "queue"}
PROCESSOR_STATUS_FIELDS = {"calls", "client", "consecutive_failures", "held_videos", "invalid_messages",
                           "pending_calls", "read_batches", "received_plays", "running"}
CONNECTION_FIELDS = {"address", "finished", "inFlight", "ready", "received", "reconnects", "requeued", "role", "state",
                     "touched"}
QUEUE_FIELDS = {"channel", "deferred", "depth", "inFlight", "topic"}
STATS_FIELDS = {"calls", "calls_over_bound", "failed_attempts", "forced_calls", "held_slots", "invalid_messages",
                "late_plays", "lower_bound", "messages", "plays", "realtime_latency_from_queue",
                "realtime_latency_from_receive", "realtime_plays", "spare_slots", "stale_plays",
                "videos_per_call_max", "videos_per_call_mean", "videos_published", "worst_staleness_ms"}
LATENCY_FIELDS = {"count", "max_ms", "p50_ms", "p99_ms"}


def test_status_and_stats_json_carry_every_field(playcount, tmp_path):
    result = playcount("-c", f"set client file:{tmp_path / 'calls.jsonl'}; set max-staleness 2s; "
                             "seed 500 zipf --videos 20 --small 5; start; wait drained --timeout 30s; "
                             "status --json; stats --json; stop; status --json")
    assert result.code == 0, result.stderr
    running, stats, stopped = json_documents(result.stdout)

    assert STATUS_FIELDS <= set(running)
    assert running["processor"] == "running" and running["broker"].startswith("embedded: TCP 127.0.0.1:")
    assert PROCESSOR_STATUS_FIELDS <= set(running["processorStatus"])
    assert running["processorStatus"]["received_plays"] == 500 and running["processorStatus"]["running"] is True
    assert running["processorStatus"]["held_videos"] == 0 and running["processorStatus"]["pending_calls"] == 0
    assert running["processorStatus"]["client"] == f"file:{tmp_path / 'calls.jsonl'}"
    # One nsqd, two connections: the unbuffered live one and the buffered catch-up one (RDY moves between them).
    connections = running["connections"]
    assert [connection["role"] for connection in connections] == ["live", "catch-up"]
    for connection in connections:
        assert CONNECTION_FIELDS <= set(connection)
        assert connection["state"] == "subscribed"
    assert sum(connection["finished"] for connection in connections) == 500
    assert QUEUE_FIELDS <= set(running["queue"])
    assert running["queue"]["topic"] == "plays" and running["queue"]["channel"] == "processor"
    assert running["queue"]["depth"] == 0 and running["queue"]["inFlight"] == 0

    assert STATS_FIELDS <= set(stats)
    assert LATENCY_FIELDS <= set(stats["realtime_latency_from_queue"])
    assert LATENCY_FIELDS <= set(stats["realtime_latency_from_receive"])
    assert stats["messages"] == 500 and stats["plays"] == 500
    assert 1 <= stats["lower_bound"] <= stats["calls"]
    assert stats["videos_per_call_max"] <= 20

    assert stopped["processor"] != "running"


def test_start_twice_fails_and_leaves_the_first_processor_running(playcount, tmp_path):
    result = playcount("--keep-going", "-c", f"set client file:{tmp_path / 'calls.jsonl'}; start; start; "
                                             "status --json; stop")
    assert result.code == 1
    assert "<command line>:3: error: the processor is already running ('stop' first)" in result.stderr
    (status,) = json_documents(result.stdout)
    assert status["processor"] == "running"


def test_stop_and_wait_drained_fail_when_the_processor_is_not_running(playcount):
    result = playcount("--keep-going", "-c", "stop; wait drained; stats")
    assert result.code == 1
    assert "<command line>:1: error: the processor is not running" in result.stderr
    assert "<command line>:2: error: the processor is not running" in result.stderr
    assert "<command line>:3: error:" in result.stderr


def test_wait_drained_fails_at_its_timeout_while_videos_are_held(playcount, tmp_path):
    # One video taken to exactly 100 plays in steps whose every play is realtime (the count before each is
    # under 100), however the broker splits them into read batches; its next plays are then held until their
    # 60 s deadline.
    result = playcount("-c", f"set client file:{tmp_path / 'calls.jsonl'}; start; "
                             "seed 99 counts:99 --videos 1 --small 0; wait drained --timeout 30s; "
                             "seed 1 counts:1 --videos 1 --small 0; wait drained --timeout 30s; "
                             "seed 50 counts:50 --videos 1 --small 0; wait drained --timeout 1s; echo not reached",
                       timeout=60)
    assert result.code == 1
    assert "<command line>:8: error: not drained after 1s" in result.stderr
    assert "not reached" not in result.stdout


def test_wait_drained_fails_at_its_timeout_while_the_webhook_refuses(playcount_bin, tmp_path):
    with WebhookServer(fail_first=10**9) as server:
        with ShellSession(playcount_bin, "--set", f"client={server.url}", cwd=tmp_path) as shell:
            shell.run("start", timeout=30)
            shell.run("seed 50 uniform --videos 5 --small 5", timeout=30)
            shell.run("wait drained --timeout 2s", timeout=30)
            assert server.wait_for(lambda requests: len(requests) >= 2, timeout=30)
            assert shell.wait_for_error("not drained after 2s"), shell.errors
            (status,) = json_documents("\n".join(shell.run("status --json")))
            assert status["processorStatus"]["consecutive_failures"] >= 1
            assert status["processorStatus"]["pending_calls"] >= 1
            # Let the held call through so the shell can stop with everything delivered.
            server.fail_first = 0
            shell.run("stop", timeout=60)
    assert all(request.json()["sequence"] == 1 for request in server.snapshot()[:2])


def test_playcount_exits_when_the_webhook_stays_down(playcount):
    closed = f"http://127.0.0.1:{free_port()}/counts"
    try:
        result = playcount("-c", f"set client {closed}; start; seed 50 uniform --videos 5 --small 5; stop --timeout 3s",
                           timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("playcount did not exit within 20 s of 'stop --timeout 3s' with an unreachable webhook")
    assert result.code == 1
    assert "<command line>:4: error: stopped without delivering everything" in result.stderr


def test_playcount_exits_at_the_end_of_a_script_while_the_webhook_stays_down(playcount):
    closed = f"http://127.0.0.1:{free_port()}/counts"
    try:
        result = playcount("-c", f"set client {closed}; start; seed 50 uniform --videos 5 --small 5", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("playcount did not exit within 30 s of its script's end with an unreachable webhook")
    assert "stopped without delivering everything" in result.stderr

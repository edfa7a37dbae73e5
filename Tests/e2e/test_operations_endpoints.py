"""`playcount --http-address`: /metrics scraped during and after a scenario and parsed with prometheus_client's
text parser (its counters equal `stats --json` and `status --json`, its histograms count the calls and plays),
/healthz, /readyz (503 before start, 200 while running, 503 while the webhook is down), /status and /stats, and
`serve` under SIGTERM exiting 0 with the endpoints closed."""

import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port, isolated_env
from processor_helpers import ShellSession, WebhookServer, http_pub, json_documents

SCENARIO_PLAYS = 20_000
# Bodies that are not plays, each dead-lettered with its reason.
INVALID_BODIES = [b"not json", b"{}", b"[]", b'{"video_id": "zzz"}', b'{"video_id": 5}', b"\xff\xfe garbage"]


def get(url: str, timeout: float = 10):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def endpoint(errors_of, wait_for_error) -> str:
    """The base URL playcount logged once its endpoints listened (port 0 picks a free one)."""
    assert wait_for_error("http: /metrics"), f"no 'http:' line on stderr: {errors_of()}"
    (line,) = [line for line in errors_of() if "http: /metrics" in line]
    return re.search(r"on (http://127\.0\.0\.1:\d+)", line).group(1)


def scrape(base: str) -> dict:
    """{(sample name, frozenset(labels)): value} of one /metrics scrape, parsed by prometheus_client."""
    status, text = get(base + "/metrics")
    assert status == 200, text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples[(name, frozenset(labels.items()))]


def total(samples: dict, name: str) -> float:
    """A metric summed over its labels."""
    return sum(v for (sample, _), v in samples.items() if sample == name)


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Polls `predicate` until it holds; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def test_metrics_equal_stats_during_and_after_a_scenario(playcount_bin, tmp_path):
    log = tmp_path / "calls.jsonl"
    with ShellSession(playcount_bin, "--http-address", "127.0.0.1:0", cwd=tmp_path,
                      env=isolated_env(tmp_path)) as shell:
        base = endpoint(lambda: shell.errors, shell.wait_for_error)
        assert get(base + "/healthz") == (200, "ok\n")
        status, body = get(base + "/readyz")
        assert status == 503 and "the processor is not running" in body, body
        assert get(base + "/stats")[0] == 404
        assert value(scrape(base), "playcount_processor_running") == 0

        (address_line,) = shell.run("broker start", timeout=30)
        http_address = re.search(r"HTTP (\S+)", address_line).group(1)
        shell.run(f"set client file:{log}")
        shell.run("set max-staleness 2s")
        shell.run("start", timeout=30)
        assert get(base + "/readyz") == (200, "ready\n")

        # Scrape all along the feed: every scrape parses, and no counter goes down.
        during = []
        feeding = threading.Event()

        def scrape_while_feeding():
            while not feeding.is_set():
                during.append(scrape(base))
                feeding.wait(0.1)

        scraper = threading.Thread(target=scrape_while_feeding)
        scraper.start()
        try:
            shell.run(f"seed {SCENARIO_PLAYS} zipf --videos 100 --small 20 --seed 3 --rate 4000",
                                     timeout=120)
            for body in INVALID_BODIES:
                http_pub(http_address, "plays", body)
            shell.run("wait drained --timeout 60s", timeout=90)
        finally:
            feeding.set()
            scraper.join()
        (stats,) = json_documents("\n".join(shell.run("stats --json")))
        (status_document,) = json_documents("\n".join(shell.run("status --json")))
        after = scrape(base)
        http_stats = json.loads(get(base + "/stats")[1])
        http_status = json.loads(get(base + "/status")[1])
        ready_while_running = get(base + "/readyz")[0]
        shell.run("stop", timeout=30)
        stopped_readiness = get(base + "/readyz")
        stopped = scrape(base)

    assert len(during) >= 3, "the feed was too short to scrape during it"
    assert during[-1][("playcount_plays_total", frozenset())] > 0
    for earlier, later in zip(during, during[1:] + [after]):
        for key, number in earlier.items():
            if key[0].endswith("_total") or key[0].endswith("_count"):
                assert later[key] >= number, f"{key} went down: {number} -> {later[key]}"

    counters = status_document["counters"]
    assert stats["plays"] == SCENARIO_PLAYS
    assert value(after, "playcount_plays_total") == stats["plays"]
    assert value(after, "playcount_messages_total") == stats["messages"]
    assert value(after, "playcount_invalid_messages_total") == stats["invalid_messages"] == len(INVALID_BODIES)
    assert value(after, "playcount_realtime_plays_total") == stats["realtime_plays"]
    assert value(after, "playcount_late_plays_total") == stats["late_plays"]
    assert value(after, "playcount_calls_total") == stats["calls"]
    assert value(after, "playcount_call_attempts_failed_total") == stats["failed_attempts"]
    assert total(after, "playcount_dead_letters_total") == counters["dead_lettered"] == len(INVALID_BODIES)
    assert value(after, "playcount_dead_letters_total", reason="not_json") >= 1
    assert value(after, "playcount_duplicates_skipped_total") == counters["duplicates_skipped"]
    assert value(after, "playcount_nsq_messages_received_total") == stats["messages"]
    assert value(after, "playcount_nsq_messages_finished_total") == stats["messages"]
    assert value(after, "playcount_nsq_messages_requeued_total") == 0
    # Histograms: one observation per call, per realtime play, per play made visible.
    assert value(after, "playcount_call_videos_count") == stats["calls"]
    assert value(after, "playcount_call_videos_sum") == stats["videos_published"]
    assert value(after, "playcount_call_videos_bucket", le="20.0") == stats["calls"]
    assert value(after, "playcount_realtime_latency_queue_seconds_count") == \
        stats["realtime_latency_from_queue"]["count"] == stats["realtime_plays"]
    assert value(after, "playcount_realtime_latency_receive_seconds_count") == stats["realtime_plays"]
    assert value(after, "playcount_staleness_at_publish_seconds_count") == stats["plays"]
    assert value(after, "playcount_state_commit_duration_seconds_count") >= 1
    # Gauges, set at the scrape.
    assert value(after, "playcount_processor_running") == 1
    assert value(after, "playcount_held_videos") == 0
    assert value(after, "playcount_lower_bound_calls") == stats["lower_bound"]
    assert value(after, "playcount_nsq_connections", state="subscribed") == \
        sum(1 for c in status_document["connections"] if c["state"] == "subscribed") >= 1
    assert not any("video_id" in dict(labels) for (_, labels) in after), "a video_id label"

    # /stats and /status are the shell's JSON.
    assert http_stats == stats
    assert http_status.keys() == status_document.keys()
    assert http_status["counters"] == counters
    assert ready_while_running == 200

    # After `stop`: not ready, the counters stay, the running gauge drops.
    assert stopped_readiness[0] == 503 and "not running" in stopped_readiness[1]
    assert value(stopped, "playcount_processor_running") == 0
    assert value(stopped, "playcount_plays_total") == stats["plays"]


def test_readyz_is_503_while_the_webhook_is_down(playcount_bin, tmp_path):
    port = free_port()
    with ShellSession(playcount_bin, "--http-address", "127.0.0.1:0", cwd=tmp_path,
                      env=isolated_env(tmp_path)) as shell:
        base = endpoint(lambda: shell.errors, shell.wait_for_error)
        shell.run(f"set client http://127.0.0.1:{port}/counts")
        shell.run("start", timeout=30)
        assert get(base + "/readyz") == (200, "ready\n")
        # Nothing listens on the webhook's port: the first realtime call fails.
        shell.run("seed 50 zipf --videos 5 --small 5 --seed 1")
        assert wait_until(lambda: get(base + "/readyz")[0] == 503, timeout=30), get(base + "/readyz")
        status, body = get(base + "/readyz")
        assert f"client http://127.0.0.1:{port}/counts failing" in body, body
        down = scrape(base)
        assert value(down, "playcount_client_errors_total", kind="connect") >= 1
        assert value(down, "playcount_client_consecutive_failures") >= 1

        with WebhookServer(port=port) as server:
            # The retry (backoff at most 10 s) reaches the server: ready again.
            assert wait_until(lambda: get(base + "/readyz")[0] == 200, timeout=45), get(base + "/readyz")
            shell.run("wait drained --timeout 30s", timeout=60)
            assert server.snapshot(), "the webhook got no call"
        (stats,) = json_documents("\n".join(shell.run("stats --json")))
        final = scrape(base)
        shell.run("stop", timeout=30)
    assert total(final, "playcount_client_errors_total") == stats["failed_attempts"] >= 1
    assert value(final, "playcount_call_attempts_failed_total") == stats["failed_attempts"]


def test_serve_exits_0_on_sigterm_with_the_endpoints_closed(playcount_bin, tmp_path):
    process = subprocess.Popen(
        [str(playcount_bin), "--http-address", "127.0.0.1:0", "--set", f"client=file:{tmp_path / 'calls.jsonl'}",
         "-c", "serve"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=isolated_env(tmp_path))
    lines = []
    try:
        for line in process.stderr:
            lines.append(line)
            if "http: /metrics" in line:
                break
        match = re.search(r"on http://127\.0\.0\.1:(\d+)", "".join(lines))
        assert match, "".join(lines)
        port = int(match.group(1))
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: get(base + "/readyz")[0] == 200, timeout=30), get(base + "/readyz")
        assert get(base + "/healthz") == (200, "ok\n")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "".join(lines) + process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_bad_or_busy_http_address_is_refused(playcount, tmp_path):
    bad = playcount("--http-address", "nowhere", "-c", "status")
    assert bad.code == 64 and "--http-address takes HOST:PORT" in bad.stderr, bad.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = playcount("--http-address", f"127.0.0.1:{taken.getsockname()[1]}", "-c", "status")
    assert busy.code == 1 and "cannot serve HTTP" in busy.stderr, busy.stderr

"""The webhook client end to end: a local HTTP server (a thread of the test) receives the calls.

Checks the request (POST, JSON body, Content-Type, Idempotency-Key == sequence), and that refused calls and a
server that is down for 30 s mid-run are retried with backoff until the counts are exact, each retried call
keeping its sequence and carrying newer counts (merged: the retry replaces the refused call's stale counts).
Over https, a self-signed server given as the trusted root (`client-ca-file`) gets the exact counts, and
without it the processor reports the untrusted certificate.
"""

import threading
import time

import pytest

from conftest import PACKAGE_ROOT, free_port
from processor_helpers import WebhookServer, final_counts, json_documents, publish_log_problems, seeded_counts

# Live plays: the processor runs first, then plays arrive at a steady rate, so counts change during retries.
LIVE_RUN = (
    "set max-staleness 2s; start; seed {plays} zipf --videos 30 --small 10 --seed 5 --rate {rate} --json; "
    "wait drained --timeout 60s; stats --json; stop"
)


def accepted_calls(requests) -> list:
    return [request.json() for request in requests if request.status == 200]


def test_webhook_requests_have_the_documented_shape(playcount):
    with WebhookServer() as server:
        result = playcount("--set", f"client={server.url}", "-c", LIVE_RUN.format(plays=2000, rate=1000),
                           timeout=120)
        requests = server.snapshot()
    assert result.code == 0, result.stderr
    seed, stats = json_documents(result.stdout)

    assert requests, "the webhook received no call"
    assert len(requests) == stats["calls"]
    for request in requests:
        assert request.method == "POST"
        assert request.path == "/counts"
        assert request.headers["content-type"] == "application/json"
        body = request.json()
        assert set(body) == {"sequence", "published_at", "counts"}
        assert request.headers["idempotency-key"] == str(body["sequence"])
    calls = accepted_calls(requests)
    assert publish_log_problems(calls) == []
    assert final_counts(calls) == seeded_counts(seed)


# The checked-in self-signed test certificate (SAN IP:127.0.0.1), shared with the Swift tests.
TEST_CERT = PACKAGE_ROOT / "Tests/PlayCountsTests/Resources/webhook-test-cert.pem"
TEST_KEY = PACKAGE_ROOT / "Tests/PlayCountsTests/Resources/webhook-test-key.pem"


def test_https_webhook_with_its_self_signed_certificate_as_trusted_root_gets_exact_counts(playcount):
    with WebhookServer(tls=(TEST_CERT, TEST_KEY)) as server:
        assert server.url.startswith("https://127.0.0.1:")
        result = playcount("--set", f"client={server.url}", "--set", f"client-ca-file={TEST_CERT}",
                           "-c", LIVE_RUN.format(plays=2000, rate=1000), timeout=120)
        requests = server.snapshot()
    assert result.code == 0, result.stderr
    seed, stats = json_documents(result.stdout)

    assert requests, "the https webhook received no call"
    assert len(requests) == stats["calls"]
    assert stats["failed_attempts"] == 0
    for request in requests:
        assert request.method == "POST" and request.path == "/counts"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["idempotency-key"] == str(request.json()["sequence"])
    calls = accepted_calls(requests)
    assert publish_log_problems(calls) == []
    assert final_counts(calls) == seeded_counts(seed)


def test_https_webhook_with_an_untrusted_certificate_is_reported(playcount):
    # No client-ca-file: the system's roots do not trust the self-signed certificate, so no call gets through.
    with WebhookServer(tls=(TEST_CERT, TEST_KEY)) as server:
        result = playcount("-c", f"set client {server.url}; start; seed 20 uniform --videos 5 --small 5; "
                           "stop --timeout 2s", timeout=30)
        requests = server.snapshot()
    assert result.code == 1
    assert requests == []
    assert "stopped without delivering everything" in result.stderr
    assert f"TLS with {server.url} failed: the server's certificate is not trusted" in result.stderr, result.stderr


def test_refused_calls_are_retried_with_the_same_sequence_and_newer_counts(playcount):
    refusals = 5
    with WebhookServer(fail_first=refusals) as server:
        result = playcount("--set", f"client={server.url}", "-c", LIVE_RUN.format(plays=2500, rate=500),
                           timeout=120)
        requests = server.snapshot()
    assert result.code == 0, result.stderr
    seed, stats = json_documents(result.stdout)

    assert [request.status for request in requests[:refusals + 1]] == [500] * refusals + [200]
    attempts = [request.json() for request in requests[:refusals + 1]]
    assert {request.headers["idempotency-key"] for request in requests[:refusals + 1]} == {"1"}
    assert {attempt["sequence"] for attempt in attempts} == {1}
    for earlier, later in zip(attempts, attempts[1:]):
        for video, count in earlier["counts"].items():
            assert later["counts"].get(video, 0) >= count, f"{video} went down in a retry"
    assert attempts[-1]["counts"] != attempts[0]["counts"], "the retries did not carry newer counts"
    # Backoff: the waits between attempts grow (100 ms, 200 ms, 400 ms, … by default).
    gaps = [later.received_at - earlier.received_at
            for earlier, later in zip(requests[:refusals], requests[1:refusals + 1])]
    assert gaps[-1] > 2 * gaps[0] and sum(gaps) >= 1.5, f"no backoff between attempts: {gaps}"
    assert stats["failed_attempts"] == refusals

    calls = accepted_calls(requests)
    assert publish_log_problems(calls) == []
    assert final_counts(calls) == seeded_counts(seed)


OUTAGE_SECONDS = 30
# RetryBackoff's defaults: 100 ms doubling up to 10 s between attempts, so the first attempt after the
# outage comes at most 10 s after the server is back.
MAX_BACKOFF_SECONDS = 10


@pytest.mark.slow
def test_a_webhook_down_for_30_seconds_mid_run_gets_exact_counts_and_merged_retries(playcount):
    # The client outage: 20,000 plays at 500/s (40 s); the webhook goes down ~1 s in for 30 s, then
    # comes back on the same port.
    port = free_port()
    outcome = {}
    run = threading.Thread(target=lambda: outcome.update(result=playcount(
        "--set", f"client=http://127.0.0.1:{port}/counts", "-c", LIVE_RUN.format(plays=20_000, rate=500),
        timeout=180)))
    with WebhookServer(port=port) as before:
        run.start()
        try:
            assert before.wait_for(lambda requests: len(requests) >= 3, timeout=30), "no call before the outage"
            # Going down: the call in flight is refused (so the test sees what it carried), then the port closes.
            before.refuse_all()
            assert before.wait_for(lambda requests: requests[-1].status == 503, timeout=10), "no call refused"
        except BaseException:
            run.join(timeout=180)
            raise
    down_at = time.monotonic()
    try:
        # The outage itself: nothing listens on the port (connections refused) while plays keep arriving.
        time.sleep(OUTAGE_SECONDS)
        with WebhookServer(port=port) as after:
            back_at = time.monotonic()
            run.join(timeout=150)
            after_requests = after.snapshot()
    finally:
        run.join(timeout=150)
    assert not run.is_alive(), "playcount did not finish"
    result = outcome["result"]
    assert result.code == 0, result.stderr
    seed, stats = json_documents(result.stdout)
    before_requests = before.snapshot()

    refused = [request for request in before_requests if request.status == 503]
    accepted_before = [request for request in before_requests if request.status == 200]
    assert [request.status for request in before_requests] == [200] * len(accepted_before) + [503] * len(refused)
    sequence = refused[0].json()["sequence"]
    assert {request.json()["sequence"] for request in refused} == {sequence}
    assert {request.headers["idempotency-key"] for request in refused} == {str(sequence)}
    # The processor kept trying while the port was closed (backoff: ~9 attempts in 30 s).
    assert stats["failed_attempts"] >= len(refused) + 3, "the processor did not retry while the webhook was down"

    # The first request after the outage is the refused call, same sequence, with merged counts: the same
    # videos, every count at least as new as when it was refused, and newer ones (plays kept arriving).
    first = after_requests[0]
    assert first.status == 200 and first.headers["idempotency-key"] == str(sequence)
    retried, stale = first.json(), refused[-1].json()
    assert retried["sequence"] == sequence
    assert set(stale["counts"]) <= set(retried["counts"]), "videos of the refused call are missing in its retry"
    for video, count in stale["counts"].items():
        assert retried["counts"][video] >= count, f"{video} went down from {count} in the retry"
    assert any(retried["counts"][video] > count for video, count in stale["counts"].items()), \
        "the retry after 30 s carried no newer count than the refused call"
    assert first.received_at - down_at >= OUTAGE_SECONDS
    # Recovery within the longest backoff (plus scheduling slack) of the server's return.
    assert first.received_at - back_at <= MAX_BACKOFF_SECONDS + 3, \
        f"first call {first.received_at - back_at:.1f} s after the webhook was back"

    assert all(request.status == 200 for request in after_requests)
    calls = accepted_calls(accepted_before + after_requests)
    assert publish_log_problems(calls) == [], "sequences must stay contiguous from 1 across the outage"
    assert final_counts(calls) == seeded_counts(seed)

"""The webhook client end to end: a local HTTP server (a thread of the test) receives the calls.

Checks the request (POST, JSON body, Content-Type, Idempotency-Key == sequence), and that refused calls and a
server that is down for a while are retried with backoff until the counts are exact, each retried call keeping its
sequence and carrying newer counts.
"""

import threading
import time

from conftest import free_port
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


def test_a_webhook_down_for_a_few_seconds_gets_exact_counts_once_it_is_back(playcount):
    port = free_port()
    outcome = {}
    run = threading.Thread(target=lambda: outcome.update(result=playcount(
        "--set", f"client=http://127.0.0.1:{port}/counts", "-c", LIVE_RUN.format(plays=2000, rate=500),
        timeout=120)))
    run.start()
    try:
        time.sleep(3)  # the outage: nothing listens on the port for 3 s while plays arrive
        with WebhookServer(port=port) as server:
            run.join(timeout=130)
            requests = server.snapshot()
    finally:
        run.join(timeout=130)
    assert not run.is_alive(), "playcount did not finish"
    result = outcome["result"]
    assert result.code == 0, result.stderr
    seed, stats = json_documents(result.stdout)

    assert stats["failed_attempts"] >= 2, "the processor did not try while the webhook was down"
    assert all(request.status == 200 for request in requests)
    calls = accepted_calls(requests)
    assert publish_log_problems(calls) == [], "sequences must stay contiguous from 1 across the outage"
    assert final_counts(calls) == seeded_counts(seed)

"""The processor against an external broker: playcount-nsqd in a process of its own, found directly
(--nsqd-tcp-address) or through its lookupd endpoints (--lookupd-http-address on its HTTP port)."""

import json
import random
import time
import urllib.request

import pytest

from processor_helpers import NsqdProcess, ShellSession, final_counts, json_documents, publish_log_problems, read_publish_log

VIDEOS = [f"{index:08x}-9dad-41d1-80b4-00c04fd430c8" for index in range(30)]
INVALID = [b"not json", b'{"video_id": "zzz"}', b"\xff\xfe\x00"]


@pytest.fixture
def nsqd(binary):
    with NsqdProcess(binary("playcount-nsqd")) as process:
        yield process


def publish_plays(nsqd: NsqdProcess, count: int) -> dict:
    """Publishes `count` valid plays (skewed over VIDEOS, via /mpub) and INVALID (via /pub); returns the counts."""
    chooser = random.Random(count)
    plays = [VIDEOS[min(int(chooser.expovariate(0.15)), len(VIDEOS) - 1)] for _ in range(count)]
    for start in range(0, count, 500):
        body = b"\n".join(json.dumps({"video_id": video}).encode() for video in plays[start:start + 500])
        request = urllib.request.Request(f"http://{nsqd.http_address}/mpub?topic=plays", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.read() == b"OK"
    for body in INVALID:
        nsqd.publish("plays", body)
    return {video: plays.count(video) for video in set(plays)}


def channel_stats(nsqd: NsqdProcess) -> dict:
    (topic,) = [topic for topic in nsqd.stats()["topics"] if topic["topic_name"] == "plays"]
    (channel,) = [channel for channel in topic["channels"] if channel["channel_name"] == "processor"]
    return channel


def wait_for_messages(shell: ShellSession, count: int, timeout: float) -> dict:
    """Polls `stats --json` until the processor received `count` messages; returns those stats."""
    deadline = time.monotonic() + timeout
    while True:
        (stats,) = json_documents("\n".join(shell.run("stats --json")))
        if stats["messages"] >= count or time.monotonic() > deadline:
            return stats
        time.sleep(0.1)


@pytest.mark.parametrize("discovery", ["direct", "lookupd"])
def test_processor_consumes_an_external_nsqd(playcount_bin, nsqd, tmp_path, discovery):
    expected = publish_plays(nsqd, 3000)
    total = 3000 + len(INVALID)
    flags = (["--nsqd-tcp-address", nsqd.tcp_address, "--nsqd-http-address", nsqd.http_address]
             if discovery == "direct" else ["--lookupd-http-address", nsqd.http_address])
    log = tmp_path / "calls.jsonl"
    with ShellSession(playcount_bin, *flags, cwd=tmp_path) as shell:
        shell.run(f"set client file:{log}")
        shell.run("set max-staleness 2s")
        shell.run("start", timeout=30)
        shell.run("wait drained --timeout 60s", timeout=70)
        (stats,) = json_documents("\n".join(shell.run("stats --json")))
        (status,) = json_documents("\n".join(shell.run("status --json")))
        shell.run("stop", timeout=30)
        assert shell.close() == 0, shell.errors

    assert stats["messages"] == total
    assert stats["invalid_messages"] == len(INVALID)
    assert [(connection["address"], connection["role"]) for connection in status["connections"]] == \
        [(nsqd.tcp_address, "live"), (nsqd.tcp_address, "catch-up")]
    calls = read_publish_log(log)
    assert publish_log_problems(calls) == []
    assert final_counts(calls) == expected
    channel = channel_stats(nsqd)
    assert channel["depth"] == 0 and channel["in_flight_count"] == 0
    assert channel["message_count"] == total and channel["requeue_count"] == 0


def test_wait_drained_waits_for_an_external_backlog(playcount, nsqd):
    publish_plays(nsqd, 3000)
    result = playcount("--nsqd-tcp-address", nsqd.tcp_address, "--nsqd-http-address", nsqd.http_address, "-c",
                       "set client file:/dev/null; set max-staleness 2s; start; wait drained --timeout 60s; "
                       "stats --json; stop",
                       timeout=120)
    assert result.code == 0, result.stderr
    (stats,) = json_documents(result.stdout)
    assert stats["messages"] == 3000 + len(INVALID)


def test_wait_drained_refuses_when_it_cannot_see_an_external_depth(playcount, nsqd):
    result = playcount("--nsqd-tcp-address", nsqd.tcp_address, "-c",
                       "set client file:/dev/null; start; wait drained --timeout 60s", timeout=60)
    assert result.code == 1
    assert "<command line>:3: error: cannot see the queue depth of the external nsqd: set nsqd-http-address" \
        in result.stderr

"""Interop: pynsq (a third-party NSQ client) against `playcount-nsqd`, the embedded broker as a process.

Each test starts the broker on free loopback ports (port 0; it prints its ports on one stdout line), runs a
pynsq Writer and Reader on a fresh asyncio/tornado loop, and stops every process it started.
Binary: $PLAYCOUNT_BIN_DIR/playcount-nsqd, else `swift build --show-bin-path` of this package.
"""

import asyncio
import collections
import json
import os
import re
import select
import subprocess
import time
import urllib.request

import nsq
import pytest

PACKAGE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
READY_LINE = re.compile(r"^playcount-nsqd: TCP 127\.0\.0\.1:(\d+) HTTP 127\.0\.0\.1:(\d+)$")


def broker_binary():
    bin_dir = os.environ.get("PLAYCOUNT_BIN_DIR")
    if not bin_dir:
        bin_dir = subprocess.run(
            ["swift", "build", "--show-bin-path"], cwd=PACKAGE_ROOT, check=True,
            capture_output=True, text=True).stdout.strip()
    path = os.path.join(bin_dir, "playcount-nsqd")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not found: run `swift build --product playcount-nsqd` or set PLAYCOUNT_BIN_DIR")
    return path


class BrokerProcess:
    """A running playcount-nsqd with the ports it reported."""

    def __init__(self, *flags):
        self.process = subprocess.Popen(
            [broker_binary(), "--tcp-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline().strip() if ready else ""
        match = READY_LINE.match(line)
        if not match:
            self.stop()
            pytest.fail(f"playcount-nsqd did not report its ports (got {line!r})")
        self.tcp_port, self.http_port = int(match[1]), int(match[2])

    @property
    def tcp_address(self):
        return f"127.0.0.1:{self.tcp_port}"

    @property
    def http_address(self):
        return f"http://127.0.0.1:{self.http_port}"

    def http(self, method, path, body=None):
        request = urllib.request.Request(self.http_address + path, data=body, method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read()

    def channel_stats(self, topic, channel):
        stats = json.loads(self.http("GET", f"/stats?format=json&topic={topic}"))
        for t in stats["topics"]:
            for c in t["channels"]:
                if c["channel_name"] == channel:
                    return c
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


@pytest.fixture
def broker_factory():
    started = []

    def start(*flags):
        broker = BrokerProcess(*flags)
        started.append(broker)
        return broker

    try:
        yield start
    finally:
        for broker in started:
            broker.stop()


def broker_run(scenario, timeout=30):
    """Runs an async scenario on a fresh event loop (pynsq binds to the current tornado/asyncio loop)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(asyncio.wait_for(scenario(), timeout))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


async def broker_wait_for(condition, timeout=15, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def broker_close(*clients):
    for client in clients:
        if isinstance(client, nsq.Reader):
            client.close()
        else:
            for conn in list(client.conns.values()):
                conn.close()


async def broker_publish(writer, topic, bodies):
    """Publishes with a Writer once it is connected: a PUB per body for the first few, then MPUBs."""
    await broker_wait_for(lambda: writer.conns, what="writer connection")
    acks = []
    errors = []

    def done(conn, data):
        (errors if isinstance(data, Exception) else acks).append(data)

    calls = 0
    singles, rest = bodies[:5], bodies[5:]
    for body in singles:
        writer.pub(topic, body, callback=done)
        calls += 1
    for start in range(0, len(rest), 50):
        writer.mpub(topic, rest[start:start + 50], callback=done)
        calls += 1
    await broker_wait_for(lambda: len(acks) + len(errors) == calls, what="publish acknowledgements")
    assert errors == []
    assert all(ack == b"OK" for ack in acks)


def broker_bodies(count, prefix="play"):
    return [json.dumps({"video_id": f"{prefix}-{i:05d}"}).encode() for i in range(count)]


def test_writer_to_reader_direct(broker_factory):
    broker = broker_factory()
    bodies = broker_bodies(500)
    received = []

    def handler(message):
        received.append(message.body)
        return True

    async def scenario():
        writer = nsq.Writer([broker.tcp_address])
        reader = nsq.Reader(topic="plays", channel="direct", message_handler=handler,
                            nsqd_tcp_addresses=[broker.tcp_address], max_in_flight=50)
        try:
            await broker_wait_for(lambda: reader.conns, what="reader connection")
            await broker_publish(writer, "plays", bodies)
            await broker_wait_for(lambda: len(received) >= len(bodies), what="all messages")
            await asyncio.sleep(0.3)  # anything extra (a duplicate) would arrive now
        finally:
            broker_close(reader, writer)

    broker_run(scenario)
    assert sorted(received) == sorted(bodies)
    stats = broker.channel_stats("plays", "direct")
    assert stats["message_count"] == len(bodies)
    assert stats["requeue_count"] == 0 and stats["timeout_count"] == 0


def test_reader_through_lookupd_endpoint(broker_factory):
    broker = broker_factory()
    broker.http("POST", "/topic/create?topic=plays")
    assert json.loads(broker.http("GET", "/lookup?topic=plays"))["producers"][0]["tcp_port"] == broker.tcp_port
    bodies = broker_bodies(300, prefix="lookup")
    received = []

    def handler(message):
        received.append(message.body)
        return True

    async def scenario():
        reader = nsq.Reader(topic="plays", channel="via-lookupd", message_handler=handler,
                            lookupd_http_addresses=[broker.http_address], lookupd_poll_interval=1,
                            max_in_flight=20)
        writer = nsq.Writer([broker.tcp_address])
        try:
            await broker_wait_for(lambda: reader.conns, what="reader discovered the broker through /lookup")
            await broker_publish(writer, "plays", bodies)
            await broker_wait_for(lambda: len(received) >= len(bodies), what="all messages")
            await asyncio.sleep(0.3)
        finally:
            broker_close(reader, writer)

    broker_run(scenario)
    assert sorted(received) == sorted(bodies)


def test_requeue_redelivers_with_more_attempts(broker_factory):
    broker = broker_factory()
    bodies = broker_bodies(40, prefix="requeue")
    attempts = collections.defaultdict(list)
    returned_false = set()

    def handler(message):
        attempts[message.body].append(message.attempts)
        if message.attempts == 1:
            if len(returned_false) < 3:
                returned_false.add(message.body)
                return False  # pynsq requeues (requeue_delay 0 below) and backs off
            message.enable_async()
            message.requeue(backoff=False, delay=0)
            return None
        return True

    async def scenario():
        writer = nsq.Writer([broker.tcp_address])
        reader = nsq.Reader(topic="plays", channel="requeue", message_handler=handler,
                            nsqd_tcp_addresses=[broker.tcp_address], max_in_flight=10,
                            requeue_delay=0, max_backoff_duration=0.2)
        try:
            await broker_wait_for(lambda: reader.conns, what="reader connection")
            await broker_publish(writer, "plays", bodies)
            await broker_wait_for(lambda: sum(len(a) for a in attempts.values()) >= 2 * len(bodies),
                                  timeout=25, what="every message delivered twice")
            await asyncio.sleep(0.3)
        finally:
            broker_close(reader, writer)

    broker_run(scenario)
    assert sorted(attempts) == sorted(bodies)
    assert all(sorted(a) == [1, 2] for a in attempts.values()), dict(attempts)
    assert len(returned_false) == 3
    stats = broker.channel_stats("plays", "requeue")
    assert stats["requeue_count"] == len(bodies)
    assert stats["depth"] == 0 and stats["in_flight_count"] == 0


def test_unfinished_messages_time_out_and_come_back(broker_factory):
    broker = broker_factory("--msg-timeout", "1s")
    bodies = broker_bodies(10, prefix="timeout")
    deliveries = collections.defaultdict(list)

    def handler(message):
        deliveries[message.body].append((message.attempts, message.id, message.timestamp, time.monotonic()))
        if message.attempts == 1:
            message.enable_async()  # never answered: the broker must time it out
            return None
        return True

    async def scenario():
        writer = nsq.Writer([broker.tcp_address])
        reader = nsq.Reader(topic="plays", channel="timeout", message_handler=handler,
                            nsqd_tcp_addresses=[broker.tcp_address], max_in_flight=20)
        try:
            await broker_wait_for(lambda: reader.conns, what="reader connection")
            await broker_publish(writer, "plays", bodies)
            await broker_wait_for(lambda: sum(len(d) for d in deliveries.values()) >= 2 * len(bodies),
                                  timeout=15, what="redelivery after msg_timeout")
            await asyncio.sleep(0.3)
        finally:
            broker_close(reader, writer)

    broker_run(scenario)
    assert sorted(deliveries) == sorted(bodies)
    for body, seen in deliveries.items():
        assert [attempt for attempt, _, _, _ in seen] == [1, 2], body
        (_, first_id, first_ts, first_at), (_, second_id, second_ts, second_at) = seen
        assert first_id == second_id and first_ts == second_ts
        assert second_at - first_at >= 0.9
    stats = broker.channel_stats("plays", "timeout")
    assert stats["timeout_count"] == len(bodies)


def test_broker_stops_on_sigterm(broker_factory):
    broker = broker_factory()
    assert broker.http("GET", "/ping") == b"OK"
    broker.process.terminate()
    assert broker.process.wait(timeout=15) == 0


def test_two_readers_share_a_channel_and_another_channel_gets_everything(broker_factory):
    broker = broker_factory()
    bodies = broker_bodies(400, prefix="shared")
    shared = {"a": [], "b": []}
    audit = []

    def collector(bucket):
        def handler(message):
            bucket.append(message.body)
            return True
        return handler

    async def scenario():
        writer = nsq.Writer([broker.tcp_address])
        readers = [
            nsq.Reader(topic="plays", channel="shared", message_handler=collector(shared["a"]),
                       nsqd_tcp_addresses=[broker.tcp_address], max_in_flight=10),
            nsq.Reader(topic="plays", channel="shared", message_handler=collector(shared["b"]),
                       nsqd_tcp_addresses=[broker.tcp_address], max_in_flight=10),
            nsq.Reader(topic="plays", channel="audit", message_handler=collector(audit),
                       nsqd_tcp_addresses=[broker.tcp_address], max_in_flight=10),
        ]
        try:
            await broker_wait_for(lambda: all(r.conns for r in readers), what="reader connections")
            await broker_wait_for(
                lambda: (broker.channel_stats("plays", "shared") or {}).get("client_count") == 2,
                what="both shared readers subscribed")
            await broker_publish(writer, "plays", bodies)
            await broker_wait_for(lambda: len(shared["a"]) + len(shared["b"]) >= len(bodies) and len(audit) >= len(bodies),
                                  what="all messages on both channels")
            await asyncio.sleep(0.3)
        finally:
            broker_close(*readers, writer)

    broker_run(scenario)
    assert sorted(shared["a"] + shared["b"]) == sorted(bodies)
    assert shared["a"] and shared["b"], "both readers of the shared channel got messages"
    assert sorted(audit) == sorted(bodies)

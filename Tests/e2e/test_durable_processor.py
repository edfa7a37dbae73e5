"""Acceptance tests of issue 5, "nothing lost, nothing counted twice", with real processes on loopback.

- crash: `playcount … --state FILE -c serve` is SIGKILLed at 5 random moments under a 100k live feed of
  2,500 msgs/s from its own `playcount-nsqd`, and restarted each time; in the end the client's last counts
  equal what was published, no count ever exceeded it (nothing counted twice), the state file agrees, and the
  user's rules are broken only inside the downtime windows: by the product's `audit` of all six runs (the
  record every run appended to), and again by an independent checker from what the client and the producer
  saw (downtime_audit.py).
- bad input: binary, non-JSON, wrong ids and 1 MB bodies mixed with valid plays: valid counts exact, every bad
  message in the dead-letter topic with its reason.
- broker restart under load: the processor reconnects and counts exactly what the broker still held.

Every process is started on free loopback ports and stopped by the test. Run: `swift build && python3 -m
pytest -q Tests/e2e/test_durable_processor.py` (about 2 minutes; `-m 'not slow'` skips the long ones).
"""

import base64
import collections
import json
import os
import random
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import free_port, isolated_env
from bad_messages import bad_messages
from downtime_audit import PublishedPlay, call_violations, deadline_violations, outside

TOPIC = "plays"


# MARK: - Processes

class Nsqd:
    """A playcount-nsqd process on loopback; `tcp` and `http` are its addresses."""

    def __init__(self, binary: Path, tcp_port: int = 0, http_port: int = 0, *extra: str):
        self.binary = binary
        self.extra = extra
        self.process = subprocess.Popen(
            [str(binary), "--tcp-address", f"127.0.0.1:{tcp_port}", "--http-address", f"127.0.0.1:{http_port}",
             *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        match = re.match(r"playcount-nsqd: TCP (\S+) HTTP (\S+)", line)
        if not match:
            self.stop()
            pytest.fail(f"unexpected first line from playcount-nsqd: {line!r}")
        self.tcp, self.http = match.group(1), match.group(2)

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    def publish(self, bodies, topic=TOPIC):
        """MPUB over HTTP (binary mode: each body length-prefixed, so any bytes may be published)."""
        data = struct.pack(">I", len(bodies)) + b"".join(struct.pack(">I", len(b)) + b for b in bodies)
        request = urllib.request.Request(f"http://{self.http}/mpub?topic={topic}&binary=true", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def publish_one(self, body: bytes, topic=TOPIC):
        request = urllib.request.Request(f"http://{self.http}/pub?topic={topic}", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def stats(self):
        with urllib.request.urlopen(f"http://{self.http}/stats?format=json", timeout=10) as response:
            return json.load(response)


class Processor:
    """`playcount … -c serve` consuming from `nsqd_tcp`, publishing to a file client, with a state file."""

    def __init__(self, binary: Path, nsqd_tcp: str, state: Path, client: Path, home: Path, *settings: str,
                 fin_delay_ms: int = 0):
        env = isolated_env(home)
        if fin_delay_ms:
            env["PLAYCOUNT_TEST_FIN_DELAY_MS"] = str(fin_delay_ms)
        self.log = open(home / f"processor-{time.monotonic_ns()}.log", "wb")
        self.process = subprocess.Popen(
            [str(binary), "--nsqd-tcp-address", nsqd_tcp, "--state", str(state), "--set", f"client=file:{client}",
             "--set", "max-staleness=3s", *[arg for s in settings for arg in ("--set", s)], "-c", "serve"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=home)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()

    def terminate(self) -> int:
        """SIGTERM: the graceful stop; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            self.log.close()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")


@pytest.fixture
def cleanup():
    """Stops every process registered with it, whatever the test's outcome."""
    stoppers = []
    yield stoppers.append
    for stop in reversed(stoppers):
        try:
            stop()
        except Exception:
            pass


# MARK: - Reading results

def client_calls(path: Path):
    """The client file's calls, in order (a torn last line from a SIGKILL is skipped)."""
    if not path.exists():
        return []
    calls = []
    for line in path.read_bytes().splitlines():
        try:
            calls.append(json.loads(line))
        except ValueError:
            continue
    return calls


def last_counts(calls):
    counts = {}
    for call in calls:
        counts.update(call["counts"])
    return counts


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def video_halves(video: str):
    """The (id_high, id_low) INTEGER columns the state file keys a video by (signed 64-bit halves)."""
    digits = video.replace("-", "")
    def signed(value):
        return value - (1 << 64) if value >= (1 << 63) else value
    return signed(int(digits[:16], 16)), signed(int(digits[16:], 16))


def stored_videos(state: Path):
    """(plays, published) per video as the state file holds them."""
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT id_high, id_low, plays, published FROM video").fetchall()
    return {(high, low): (plays, published) for high, low, plays, published in rows}


def assert_never_overcounted(calls, expected):
    """No call ever showed more plays than were published: nothing was counted twice."""
    for call in calls:
        for video, plays in call["counts"].items():
            assert plays <= expected.get(video, 0), f"call {call['sequence']} shows {video} = {plays} > {expected.get(video, 0)} published"


# MARK: - A minimal NSQ reader for the dead-letter topic

def read_topic(address: str, topic: str, expected: int, timeout: float = 30):
    """Reads `expected` messages from `topic` (channel 'check'), FINs them and returns their bodies."""
    host, port = address.rsplit(":", 1)
    bodies = []
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(b"  V2")
        sock.sendall(f"SUB {topic} check\n".encode())
        sock.sendall(b"RDY 1000\n")
        buffer, offset = bytearray(), 0
        deadline = time.monotonic() + timeout
        while len(bodies) < expected and time.monotonic() < deadline:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            # Consumed frames are dropped once per chunk, not per frame: many frames per chunk stay cheap.
            del buffer[:offset]
            buffer += chunk
            offset = 0
            while len(buffer) - offset >= 8:
                size, frame_type = struct.unpack_from(">II", buffer, offset)
                if len(buffer) - offset < 4 + size:
                    break
                data = bytes(buffer[offset + 8:offset + 4 + size])
                offset += 4 + size
                if frame_type == 0 and data == b"_heartbeat_":
                    sock.sendall(b"NOP\n")
                elif frame_type == 1:
                    pytest.fail(f"nsqd error: {data!r}")
                elif frame_type == 2:
                    message_id = data[10:26]
                    bodies.append(data[26:])
                    sock.sendall(b"FIN " + message_id + b"\n")
    return bodies


# MARK: - Feeding plays

class Feeder(threading.Thread):
    """Publishes `total` plays over `videos` at about `rate` msgs/s (MPUB over HTTP every 50 ms)."""

    def __init__(self, nsqd: Nsqd, videos, total: int, rate: float, seed: int):
        super().__init__(daemon=True)
        self.nsqd, self.videos, self.total, self.rate = nsqd, videos, total, rate
        self.random = random.Random(seed)
        self.published = {}
        # A batch whose MPUB failed (the broker died) may still have been taken: its plays may be counted.
        self.uncertain = {}
        self.sent = 0
        # Every play nsqd took, with the wall-clock instant its MPUB returned (for the deadline audit).
        self.log = []
        self.error = None
        self.stop_requested = False
        self.started_at = None
        self.finished_at = None
        self.finished_ns = None

    def run(self):
        weights = [1.0 / (rank + 1) for rank in range(len(self.videos))]
        per_tick = max(1, int(self.rate * 0.05))
        self.started_at = time.monotonic()
        try:
            while self.sent < self.total and not self.stop_requested:
                batch = self.random.choices(self.videos, weights, k=min(per_tick, self.total - self.sent))
                try:
                    self.nsqd.publish([json.dumps({"video_id": video}).encode() for video in batch])
                except Exception:
                    for video in batch:
                        self.uncertain[video] = self.uncertain.get(video, 0) + 1
                    raise
                taken_ns = time.time_ns()
                for video in batch:
                    self.published[video] = self.published.get(video, 0) + 1
                    self.log.append(PublishedPlay(taken_ns, video))
                self.sent += len(batch)
                pause = self.started_at + self.sent / self.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        except Exception as error:  # reported by the test
            self.error = error
        self.finished_at = time.monotonic()
        self.finished_ns = time.time_ns()


def new_videos(count: int, seed: int):
    generator = random.Random(seed)
    return [str(uuid.UUID(int=generator.getrandbits(128), version=4)) for _ in range(count)]


# MARK: - Tests

MAX_STALENESS_NS = 3_000_000_000  # Processor's --set max-staleness=3s: deadlines fire during the run
# Rule 1 from the outside: visible within this long of its publish (the processor's read-commit-FIN-publish
# loop with the 200 ms fault-injection pause takes a few hundred ms; the product's audit allows 1 s after the read).
REALTIME_BUDGET_NS = 1_000_000_000
REALTIME_THRESHOLD = 100


def subscribed_clients(nsqd: Nsqd, channel: str = "processor") -> set:
    """The remote addresses of the clients subscribed to `TOPIC`/`channel`."""
    for topic in nsqd.stats().get("topics", []):
        if topic["topic_name"] == TOPIC:
            for found in topic["channels"]:
                if found["channel_name"] == channel:
                    return {client["remote_address"] for client in found.get("clients", [])}
    return set()


@pytest.mark.slow
def test_sigkilled_processor_resumes_without_losing_or_doubling_a_play(binary, playcount_bin, tmp_path, cleanup):
    # The crash test: a 100k live replay at >= 2,000 msgs/s (2,500/s: 40 s of feed), the processor
    # SIGKILLed at 5 random moments and restarted each time.
    total, rate = 100_000, 2_500
    nsqd = Nsqd(binary("playcount-nsqd"), 0, 0, "--msg-timeout", "2s")
    cleanup(nsqd.stop)
    state, client = tmp_path / "state.sqlite", tmp_path / "client.jsonl"
    record = tmp_path / "record.jsonl"
    videos = new_videos(300, seed=5)
    feeder = Feeder(nsqd, videos, total=total, rate=rate, seed=7)

    def start():
        # Fault injection: 200 ms between each batch's commit and its FIN, so that the kills also strand
        # committed messages, whose redeliveries must be recognised and not counted again. Every run appends
        # its receipts to the same record (the state is a file).
        # msg-timeout 2s as the broker's own: what a kill strands comes back within the downtime window.
        processor = Processor(playcount_bin, nsqd.tcp, state, client, tmp_path, f"record={record}", "msg-timeout=2s",
                              fin_delay_ms=200)
        cleanup(processor.kill)
        return processor

    def wait_subscribed(previous: set) -> int:
        """Waits until a new connection of the processor is subscribed; returns that instant (wall ns)."""
        wait_until(lambda: subscribed_clients(nsqd) - previous, timeout=30, what="the processor to subscribe")
        return time.time_ns()

    processor = start()
    wait_subscribed(set())
    feed_started = time.monotonic()
    feeder.start()
    cleanup(lambda: setattr(feeder, "stop_requested", True))
    # One kill at a random moment in each fifth of the feed; the next kill only once the restarted processor
    # is subscribed again, so that the downtime windows are well defined.
    killer = random.Random(11)
    segment = total / rate / 5
    downtimes = []
    for index in range(5):
        kill_at = feed_started + index * segment + killer.uniform(0.2, 0.8) * segment
        time.sleep(max(0.0, kill_at - time.monotonic()))
        connected = subscribed_clients(nsqd)
        killed_ns = time.time_ns()
        processor.kill()
        time.sleep(killer.uniform(0.0, 0.5))
        processor = start()
        downtimes.append((killed_ns, wait_subscribed(connected)))
    feeder.join(timeout=120)
    assert feeder.error is None, f"feeding failed: {feeder.error}"
    assert feeder.sent == total
    fed_rate = feeder.sent / (feeder.finished_at - feeder.started_at)
    assert fed_rate >= 2_000, f"fed only {fed_rate:.0f} msgs/s"
    assert len(downtimes) == 5 and all(killed < feeder.finished_ns for killed, _ in downtimes)

    expected = feeder.published

    def caught_up():
        calls = client_calls(client)
        assert_never_overcounted(calls, expected)  # fail at once rather than time out
        return last_counts(calls) == expected

    wait_until(caught_up, timeout=120, what="the client to show every published play")
    assert processor.terminate() == 0, processor.output()

    calls = client_calls(client)
    assert_never_overcounted(calls, expected)
    assert last_counts(calls) == expected
    stored = stored_videos(state)
    assert len(stored) == len(expected)
    for video, plays in expected.items():
        assert stored[video_halves(video)] == (plays, plays), f"state file disagrees for {video}"
    # Nothing was given up on or dead-lettered: every valid play was counted.
    topics = {t["topic_name"]: t for t in nsqd.stats().get("topics", [])}
    assert TOPIC + ".dead" not in topics or topics[TOPIC + ".dead"]["message_count"] == 0
    # The kills did strand in-flight messages, which nsqd redelivered after their timeout.
    channel = next(c for c in topics[TOPIC]["channels"] if c["channel_name"] == "processor")
    assert channel["timeout_count"] > 0

    # The product's audit of all six runs: the client's calls against the record every run appended to. A
    # play recorded before a kill stopped its commit was delivered and recorded again, and counts once.
    windows = [(killed, subscribed + MAX_STALENESS_NS) for killed, subscribed in downtimes]
    report = product_audit(playcount_bin, tmp_path, client, record)
    assert report["plays"] == total and report["calls"] == len(calls), report["limits"]
    assert report["limits"]["max_staleness_ns"] == MAX_STALENESS_NS
    untimed = [v for v in report["violations"] if v.get("at_ns") is None]
    assert not untimed, f"violations at no instant (final counts): {untimed[:5]}"
    outside_downtime = [v for v in report["violations"] if not any(start <= v["at_ns"] <= end for start, end in windows)]
    assert not outside_downtime, \
        f"audit: {len(outside_downtime)} violations while the processor was up, e.g. {outside_downtime[:5]} (windows {windows})"

    # The same rules checked independently from what the client and the producer saw (downtime_audit.py):
    # rule 1 counted from the publish, not from the read.
    broken = call_violations(calls)
    assert not broken, f"rules 3/4 or the sequence numbers broken across restarts: {len(broken)}, {broken[:5]}"
    late = deadline_violations(calls, feeder.log, REALTIME_THRESHOLD, REALTIME_BUDGET_NS, MAX_STALENESS_NS)
    # Down from the kill until the restarted processor is subscribed again, plus the max staleness to catch up.
    missed = outside(late, windows)
    assert not missed, f"{len(missed)} deadlines missed while the processor was up, e.g. {missed[:5]} (windows {windows})"


def product_audit(binary: Path, home: Path, calls_log: Path, record: Path) -> dict:
    """`playcount audit CALLS --receipts RECORD --json` under the processors' settings; its JSON report."""
    done = subprocess.run(
        [str(binary), "--set", "max-staleness=3s", "-c", f"audit {calls_log} --receipts {record} --json"],
        capture_output=True, text=True, env=isolated_env(home), cwd=home, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def publish_in_chunks(nsqd: Nsqd, messages, max_messages: int = 1000, max_bytes: int = 3 * 1024 * 1024):
    """MPUBs `messages` in order, in requests of at most `max_messages` messages and about `max_bytes`."""
    chunk, size = [], 0
    for body in messages:
        if chunk and (len(chunk) == max_messages or size + len(body) > max_bytes):
            nsqd.publish(chunk)
            chunk, size = [], 0
        chunk.append(body)
        size += len(body) + 4
    if chunk:
        nsqd.publish(chunk)


@pytest.mark.slow
def test_bad_messages_go_to_the_dead_letter_topic_and_valid_counts_stay_exact(binary, playcount_bin, tmp_path, cleanup):
    # The bad-input test: 10,000 malformed messages of every kind (binary and 1 MB bodies among them)
    # mixed into 100,000 valid ones.
    nsqd = Nsqd(binary("playcount-nsqd"))
    cleanup(nsqd.stop)
    state, client = tmp_path / "state.sqlite", tmp_path / "client.jsonl"
    processor = Processor(playcount_bin, nsqd.tcp, state, client, tmp_path)
    cleanup(processor.kill)
    pid = processor.process.pid

    generator = random.Random(3)
    videos = new_videos(200, seed=9)
    bad = bad_messages(10_000, generator)
    assert len(bad) == 10_000 and sum(len(body) >= 1_000_000 for body, _ in bad) == 5
    expected = {}
    messages = []
    for _ in range(100_000):
        video = generator.choice(videos)
        expected[video] = expected.get(video, 0) + 1
        messages.append(json.dumps({"video_id": video}).encode())
    # Interleaved: each bad message at a random place among the valid ones.
    for body, _ in bad:
        messages.insert(generator.randrange(len(messages) + 1), body)
    publish_in_chunks(nsqd, messages)
    # Over nsqd's max-msg-size: refused at the door, so it never reaches the processor.
    with pytest.raises(urllib.error.HTTPError):
        nsqd.publish_one(b"y" * (1024 * 1024 + 1))

    wait_until(lambda: last_counts(client_calls(client)) == expected, timeout=180, what="the valid counts")
    letters = [json.loads(body) for body in read_topic(nsqd.tcp, TOPIC + ".dead", expected=len(bad), timeout=120)]
    # The processor never stopped: the same process ran throughout, and it stops gracefully now.
    assert processor.process.poll() is None and processor.process.pid == pid, processor.output()
    assert processor.terminate() == 0, processor.output()

    # Every bad message is in the dead-letter topic exactly once, with the reason of its kind.
    assert len(letters) == len(bad)
    dead_topic = next(t for t in nsqd.stats()["topics"] if t["topic_name"] == TOPIC + ".dead")
    assert dead_topic["message_count"] == len(bad), "dead letters published more than once"
    kept = 64 * 1024  # DeadLetter.maxBodyBytes: longer bodies are kept truncated, with their full length
    found = collections.Counter(
        (base64.b64decode(letter["body_base64"]), letter["body_bytes"], letter["reason"]) for letter in letters)
    wanted = collections.Counter((body[:kept], len(body), reason) for body, reason in bad)
    assert found == wanted, (f"missing: {summarise(wanted - found)}; unexpected: {summarise(found - wanted)}")
    for letter in letters:
        assert letter["detail"] and re.fullmatch(r"[0-9a-f]{16}", letter["message_id"]), letter
        assert letter["body_truncated"] == (letter["body_bytes"] > kept), letter
    # Valid counts exact, in the client and in the state file.
    assert last_counts(client_calls(client)) == expected
    stored = stored_videos(state)
    assert {video: stored[video_halves(video)][0] for video in expected} == expected
    # Logged, but rate-limited: the first 5 invalid messages, then every 1000th.
    reports = processor.output().count("invalid message")
    assert 5 <= reports <= 5 + len(bad) // 1000, f"{reports} invalid-message reports for {len(bad)} bad messages"


def summarise(letters: collections.Counter) -> list:
    """The first few (body prefix, size, reason) of a Counter of dead letters, for a readable failure."""
    return [(body[:40], size, reason, times) for (body, size, reason), times in list(letters.items())[:5]]


def test_broker_restart_under_load_processor_reconnects_and_stays_exact(binary, playcount_bin, tmp_path, cleanup):
    tcp_port, http_port = free_port(), free_port()
    nsqd = Nsqd(binary("playcount-nsqd"), tcp_port, http_port)
    cleanup(lambda: nsqd.stop())
    state, client = tmp_path / "state.sqlite", tmp_path / "client.jsonl"
    processor = Processor(playcount_bin, nsqd.tcp, state, client, tmp_path)
    cleanup(processor.kill)

    before_videos, after_videos = new_videos(100, seed=21), new_videos(100, seed=22)
    before = Feeder(nsqd, before_videos, total=12_000, rate=2_500, seed=1)
    before.start()
    time.sleep(2.5)
    nsqd.stop(signal.SIGKILL)  # under load: queued and in-flight messages die with the broker
    before.join(timeout=30)
    assert before.error is not None or before.sent <= before.total

    nsqd = Nsqd(binary("playcount-nsqd"), tcp_port, http_port)
    cleanup(lambda: nsqd.stop())
    after = Feeder(nsqd, after_videos, total=8_000, rate=2_500, seed=2)
    after.run()
    assert after.error is None, f"feeding failed: {after.error}"
    expected_after = after.published
    wait_until(lambda: all(last_counts(client_calls(client)).get(v) == n for v, n in expected_after.items()),
               timeout=60, what="every play published after the restart")
    assert processor.terminate() == 0, processor.output()

    calls = client_calls(client)
    shown = last_counts(calls)
    # The broker held everything published after the restart: exact.
    assert {v: shown.get(v) for v in expected_after} == expected_after
    # Before the crash: plays the broker lost are missing, but nothing is counted twice.
    possible = {v: before.published.get(v, 0) + before.uncertain.get(v, 0) for v in before_videos}
    assert_never_overcounted(calls, {**possible, **expected_after})
    assert set(shown) <= set(possible) | set(expected_after)
    assert any(shown.get(v) for v in before_videos), "nothing published before the broker died was counted"
    # The client and the state file agree on every video.
    stored = stored_videos(state)
    for video, plays in shown.items():
        assert stored[video_halves(video)] == (plays, plays)
    assert len(stored) == len(shown)


def test_sigint_stops_serve_gracefully_publishing_what_is_held(binary, playcount_bin, tmp_path, cleanup):
    nsqd = Nsqd(binary("playcount-nsqd"))
    cleanup(nsqd.stop)
    state, client = tmp_path / "state.sqlite", tmp_path / "client.jsonl"
    processor = Processor(playcount_bin, nsqd.tcp, state, client, tmp_path, "max-staleness=1h")
    cleanup(processor.kill)
    video = new_videos(1, seed=31)[0]
    # 100 realtime plays, then 400 that are held for an hour: only a graceful stop publishes them now.
    nsqd.publish([json.dumps({"video_id": video}).encode()] * 100)
    wait_until(lambda: last_counts(client_calls(client)).get(video) == 100, timeout=30, what="the realtime plays")
    nsqd.publish([json.dumps({"video_id": video}).encode()] * 400)
    wait_until(lambda: stored_videos(state).get(video_halves(video), (0, 0))[0] == 500, timeout=30,
               what="the held plays to be committed")
    assert last_counts(client_calls(client))[video] < 500
    processor.process.send_signal(signal.SIGINT)
    assert processor.process.wait(timeout=60) == 0, processor.output()
    assert last_counts(client_calls(client)) == {video: 500}
    assert stored_videos(state)[video_halves(video)] == (500, 500)


def requeue_repeatedly(address: str, topic: str, channel: str, times: int, timeout: float = 30):
    """Takes the channel's one message `times` times and REQs it each time (attempts grow by one each)."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(b"  V2" + f"SUB {topic} {channel}\n".encode() + b"RDY 1\n")
        buffer, taken = b"", 0
        deadline = time.monotonic() + timeout
        while taken < times and time.monotonic() < deadline:
            buffer += sock.recv(1 << 16)
            while len(buffer) >= 8 and len(buffer) >= 4 + struct.unpack(">I", buffer[:4])[0]:
                size, frame_type = struct.unpack(">II", buffer[:8])
                data, buffer = buffer[8:4 + size], buffer[4 + size:]
                if frame_type == 2:
                    taken += 1
                    # After the last one, RDY 0 first so that nsqd does not hand it straight back to us.
                    sock.sendall((b"RDY 0\n" if taken == times else b"") + b"REQ " + data[10:26] + b" 0\n")
                elif frame_type == 0 and data == b"_heartbeat_":
                    sock.sendall(b"NOP\n")
        sock.sendall(b"CLS\n")
        assert taken == times


def test_message_past_max_attempts_is_dead_lettered(binary, playcount_bin, tmp_path, cleanup):
    nsqd = Nsqd(binary("playcount-nsqd"))
    cleanup(nsqd.stop)
    video = new_videos(1, seed=41)[0]
    nsqd.publish([json.dumps({"video_id": video}).encode()])
    # Five failed deliveries elsewhere on the processor's channel: the next one is attempt 6 > max attempts 5.
    requeue_repeatedly(nsqd.tcp, TOPIC, "processor", times=5)
    state, client = tmp_path / "state.sqlite", tmp_path / "client.jsonl"
    processor = Processor(playcount_bin, nsqd.tcp, state, client, tmp_path)
    cleanup(processor.kill)
    letters = [json.loads(body) for body in read_topic(nsqd.tcp, TOPIC + ".dead", expected=1)]
    assert processor.terminate() == 0, processor.output()
    assert len(letters) == 1 and letters[0]["reason"] == "max_attempts" and letters[0]["attempts"] == 6
    assert json.loads(base64.b64decode(letters[0]["body_base64"])) == {"video_id": video}
    assert client_calls(client) == []


@pytest.mark.slow
def test_a_sigkilled_processor_restarted_after_1s_shows_every_earlier_play_within_10s(binary, playcount_bin, tmp_path,
                                                                                        cleanup):
    # Issue 10's recovery acceptance: the broker keeps nsqd's default 60 s message timeout; the processor
    # negotiates its own (msg-timeout, 5 s by default) in IDENTIFY, so what the dead process held in flight
    # comes back within seconds, not a minute. Checked from the outside: the client's counts against what
    # the producer had published before the kill.
    nsqd = Nsqd(binary("playcount-nsqd"), 0, 0)
    cleanup(nsqd.stop)
    state, client = tmp_path / "state.sqlite", tmp_path / "client.jsonl"
    videos = new_videos(200, seed=21)
    feeder = Feeder(nsqd, videos, total=15_000, rate=1_000, seed=23)

    # Fault injection (200 ms between a batch's commit and its FIN) keeps messages in flight at any instant, so
    # the kill always strands some.
    processor = Processor(playcount_bin, nsqd.tcp, state, client, tmp_path, fin_delay_ms=200)
    cleanup(processor.kill)
    wait_until(lambda: subscribed_clients(nsqd), timeout=30, what="the processor to subscribe")
    feeder.start()
    cleanup(lambda: setattr(feeder, "stop_requested", True))
    wait_until(lambda: feeder.sent >= 5_000, timeout=60, what="5,000 plays fed")
    killed_ns = time.time_ns()
    processor.kill()
    before_kill = collections.Counter(play.video for play in list(feeder.log) if play.at_ns < killed_ns)
    time.sleep(1)  # the restart delay, not a wait for a condition
    processor = Processor(playcount_bin, nsqd.tcp, state, client, tmp_path)
    cleanup(processor.kill)

    def shows_every_play_published_before_the_kill():
        counts = last_counts(client_calls(client))
        return all(counts.get(video, 0) >= plays for video, plays in before_kill.items())

    deadline_ns = killed_ns + 10_000_000_000
    while not shows_every_play_published_before_the_kill():
        assert time.time_ns() < deadline_ns, \
            "10 s after the kill the client still misses plays published before it"
        time.sleep(0.05)
    shown_after_s = (time.time_ns() - killed_ns) / 1e9

    feeder.join(timeout=120)
    assert feeder.error is None, f"feeding failed: {feeder.error}"
    expected = feeder.published

    def caught_up():
        calls = client_calls(client)
        assert_never_overcounted(calls, expected)
        return last_counts(calls) == expected

    wait_until(caught_up, timeout=120, what="the client to show every published play")
    assert processor.terminate() == 0, processor.output()
    channel = next(c for t in nsqd.stats()["topics"] if t["topic_name"] == TOPIC for c in t["channels"]
                   if c["channel_name"] == "processor")
    # The kill did strand messages, and nsqd timed them out on the negotiated timeout (well before 60 s).
    assert channel["timeout_count"] > 0, f"no message was in flight at the kill (shown after {shown_after_s:.1f} s)"

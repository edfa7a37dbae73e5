"""Issue 12's acceptance: a partitioned deployment end to end, laid out by Scripts/playcount-cluster.

2 playcount-nsqd brokers (discovered through their nsqlookupd `/lookup`), 2 routers, K = 3 owners and a webhook
client (this test's recorder); 100k plays over 100 videos (Zipf-like, 1/k^1.5: dozens of them under 100 plays)
published across both brokers at 2,500 plays/s. One router and one owner are SIGKILLed mid-run and restarted by
`playcount-cluster start` (it starts what is not running). In the end the client's counts, merged as the README
says (per video, the latest call that carried it), equal what was published for every video, no call ever
showed more, and the user's rules are broken only inside the downtime windows: checked by the product's
`audit` of all owners' records as one run, and independently from what the client and the producer saw
(downtime_audit.py, each partition's calls its own sequence).

Run: `swift build && python3 -m pytest -q Tests/e2e/test_partitioned_deployment.py` (about a minute).
"""

import json
import os
import random
import signal
import struct
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import PACKAGE_ROOT, isolated_env
from downtime_audit import PublishedPlay, call_violations, deadline_violations, outside
from processor_helpers import WebhookServer

CLUSTER = PACKAGE_ROOT / "Scripts" / "playcount-cluster"
TOPIC = "plays"
PARTITIONS = 3
MSG_TIMEOUT_NS = 2_000_000_000
MAX_STALENESS_NS = 3_000_000_000
# Rule 1 from the outside: visible within this long of its publish (two hops, each read-commit-publish).
REALTIME_BUDGET_NS = 1_000_000_000
REALTIME_THRESHOLD = 100


def fnv1a_partition(video: str, count: int) -> int:
    """The README's hash, written independently: FNV-1a 64 of the lowercase id text, modulo K."""
    value = 0xCBF29CE484222325
    for byte in video.lower().encode():
        value = ((value ^ byte) * 0x100000001B3) % (1 << 64)
    return value % count


class Cluster:
    """Scripts/playcount-cluster in its own directory, with the built binaries."""

    def __init__(self, directory: Path, bin_dir: Path):
        self.directory = directory
        self.env = {**os.environ, "PLAYCOUNT_CLUSTER_DIR": str(directory), "PLAYCOUNT_BIN_DIR": str(bin_dir)}

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(CLUSTER), *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    @property
    def layout(self) -> dict:
        return json.loads((self.directory / "cluster.json").read_text())

    def pid(self, name: str) -> int:
        return int((self.directory / f"{name}.pid").read_text())

    def kill(self, name: str) -> int:
        """SIGKILLs component `name`; the wall-clock instant of the kill."""
        pid = self.pid(name)
        killed = time.time_ns()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return killed

    def kill_everything(self) -> None:
        """The fallback when the test fails half-way: nothing it started may outlive it."""
        for pidfile in self.directory.glob("*.pid"):
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except (OSError, ValueError):
                pass


class Feeder(threading.Thread):
    """Publishes `total` plays at about `rate`/s, MPUB over HTTP every 50 ms, to each broker in turn."""

    def __init__(self, brokers: list, videos: list, weights: list, total: int, rate: float, seed: int):
        super().__init__(daemon=True)
        self.brokers, self.videos, self.weights, self.total, self.rate = brokers, videos, weights, total, rate
        self.random = random.Random(seed)
        self.published = {}
        self.per_broker = [0] * len(brokers)
        self.log = []
        self.sent = 0
        self.error = None
        self.stop_requested = False
        self.started_at = self.finished_ns = None

    def run(self):
        per_tick = max(1, int(self.rate * 0.05))
        self.started_at = time.monotonic()
        turn = 0
        try:
            while self.sent < self.total and not self.stop_requested:
                batch = self.random.choices(self.videos, self.weights, k=min(per_tick, self.total - self.sent))
                bodies = [json.dumps({"video_id": video}).encode() for video in batch]
                data = struct.pack(">I", len(bodies)) + b"".join(struct.pack(">I", len(b)) + b for b in bodies)
                request = urllib.request.Request(
                    f"http://{self.brokers[turn]['http']}/mpub?topic={TOPIC}&binary=true", data=data, method="POST")
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200
                taken_ns = time.time_ns()
                for video in batch:
                    self.published[video] = self.published.get(video, 0) + 1
                    self.log.append(PublishedPlay(taken_ns, video))
                self.per_broker[turn] += len(batch)
                turn = (turn + 1) % len(self.brokers)
                self.sent += len(batch)
                pause = self.started_at + self.sent / self.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        except Exception as error:  # reported by the test
            self.error = error
        self.finished_ns = time.time_ns()


def calls_of(server: WebhookServer) -> list:
    """The calls the client accepted, in arrival order (a resend repeats its partition's sequence)."""
    return [request.json() for request in server.snapshot() if request.status == 200]


def merged_counts(calls: list) -> dict:
    """The README's merge: per video, the count of the latest call that carried it."""
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


def broker_topics(broker: dict) -> dict:
    with urllib.request.urlopen(f"http://{broker['http']}/stats?format=json", timeout=10) as response:
        return {topic["topic_name"]: topic for topic in json.load(response).get("topics") or []}


@pytest.mark.slow
def test_two_brokers_two_routers_three_owners_survive_kills_with_exact_counts(bin_dir, playcount_bin, tmp_path):
    total, rate = 100_000, 2_500
    generator = random.Random(12)
    videos = [str(uuid.UUID(int=generator.getrandbits(128), version=4)) for _ in range(100)]
    weights = [1.0 / (rank + 1) ** 1.5 for rank in range(len(videos))]
    cluster = Cluster(tmp_path / "cluster", bin_dir)
    with WebhookServer() as client:
        try:
            started = cluster.run(
                "start", "--brokers", "2", "--routers", "2", "--partitions", str(PARTITIONS), "--client", client.url,
                "--msg-timeout", "2s", "--set", "max-staleness=3s")
            assert started.returncode == 0, started.stdout + started.stderr
            layout = cluster.layout
            assert len(layout["brokers"]) == 2 and layout["routers"] == 2 and layout["partitions"] == PARTITIONS
            again = cluster.run("start")
            assert again.returncode == 0 and "everything is running" in again.stdout, again.stdout + again.stderr

            feeder = Feeder(layout["brokers"], videos, weights, total, rate, seed=13)
            feeder.start()
            downtimes = []
            for name, at_fraction in (("router0", 0.35), ("owner1", 0.65)):
                wait_until(lambda: feeder.sent >= total * at_fraction or feeder.error, 60, f"{at_fraction:.0%} fed")
                killed = cluster.kill(name)
                time.sleep(0.5)
                restarted = cluster.run("start")
                assert restarted.returncode == 0, restarted.stdout + restarted.stderr
                assert f"started {name}" in restarted.stdout, restarted.stdout
                # Down from the kill until it is subscribed again (start waits for that), or until nsqd gave what
                # was in flight to it to another consumer, plus the max staleness to catch up.
                back = max(time.time_ns(), killed + MSG_TIMEOUT_NS)
                downtimes.append((killed, back + MAX_STALENESS_NS + REALTIME_BUDGET_NS))
            feeder.join(timeout=120)
            assert feeder.error is None, f"feeding failed: {feeder.error}"
            assert feeder.sent == total and min(feeder.per_broker) > 0
            expected = feeder.published
            assert sum(1 for plays in expected.values() if plays < REALTIME_THRESHOLD) >= 15

            def caught_up():
                counts = merged_counts(calls_of(client))
                over = {video: plays for video, plays in counts.items() if plays > expected.get(video, 0)}
                assert not over, f"counted twice: {over}"
                return counts == expected

            wait_until(caught_up, 120, "the client to show every published play")
            # The routers sent each play back to the broker it was read from: each broker's partition topics
            # took about what was fed to it (more after a router's crash: a copy routed twice).
            for broker, fed in zip(layout["brokers"], feeder.per_broker):
                topics = broker_topics(broker)
                routed = sum(topics[f"{TOPIC}.p{k}"]["message_count"] for k in range(PARTITIONS))
                assert routed >= fed, f"{broker['tcp']}: {routed} plays routed, {fed} fed to it"
            shown = cluster.run("status")
            assert shown.returncode == 0, shown.stdout + shown.stderr
            stopped = cluster.run("stop")
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        finally:
            cluster.kill_everything()
        calls = calls_of(client)

    # Each partition's calls carry their own sequence, and only that partition's videos.
    by_partition = {}
    for call in calls:
        assert call["partitions"] == PARTITIONS
        by_partition.setdefault(call["partition"], []).append(call)
        for video in call["counts"]:
            assert fnv1a_partition(video, PARTITIONS) == call["partition"], f"{video} published by the wrong owner"
    assert sorted(by_partition) == list(range(PARTITIONS))
    records = [cluster.directory / f"owner{k}.record.jsonl" for k in range(PARTITIONS)]
    assert all(record.exists() for record in records)

    # The same rules checked independently, from what the client and the producer saw.
    for partition, own in by_partition.items():
        broken = call_violations(own)
        assert not broken, f"partition {partition}: rules 3/4 or its sequence broken: {broken[:5]}"
    late = deadline_violations(calls, feeder.log, REALTIME_THRESHOLD, REALTIME_BUDGET_NS, MAX_STALENESS_NS)
    missed = outside(late, downtimes)
    assert not missed, f"{len(missed)} deadlines missed while everything was up, e.g. {missed[:5]} ({downtimes})"

    # The product's audit of all owners as one run: the calls in arrival order against every owner's record.
    calls_log = tmp_path / "calls.jsonl"
    calls_log.write_text("".join(json.dumps(call) + "\n" for call in calls))
    receipts = [arg for record in records for arg in ("--receipts", str(record))]
    home = tmp_path / "home"
    home.mkdir()
    audited = subprocess.run(
        [str(playcount_bin), "--set", "max-staleness=3s", "-c",
         " ".join(["audit", str(calls_log), *receipts, "--json"])],
        capture_output=True, text=True, env=isolated_env(home), cwd=home, timeout=300)
    assert audited.returncode == 0, audited.stderr
    report = json.loads(audited.stdout)
    assert report["plays"] == total and report["calls"] == len(calls)
    untimed = [v for v in report["violations"] if v.get("at_ns") is None]
    assert not untimed, f"violations at no instant (final counts): {untimed[:5]}"
    during_uptime = [v for v in report["violations"] if not any(a <= v["at_ns"] <= b for a, b in downtimes)]
    assert not during_uptime, f"audit: {len(during_uptime)} violations while everything was up: {during_uptime[:5]}"

"""One processor per channel (issue 12): a second `serve` on a channel that already has a consumer is refused
with exit status 1, naming that consumer, whether the nsqd is named directly or found through lookupd;
`shared-channel=true` overrides; a processor killed just before does not block its restart."""

import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import isolated_env
from processor_helpers import NsqdProcess

TOPIC, CHANNEL = "plays", "processor"


@pytest.fixture
def nsqd(binary):
    with NsqdProcess(binary("playcount-nsqd")) as process:
        yield process


def channel_clients(nsqd: NsqdProcess) -> list:
    """The channel's clients on `nsqd` (a processor has two per nsqd: its live and catch-up connections)."""
    for topic in nsqd.stats()["topics"]:
        if topic["topic_name"] == TOPIC:
            for channel in topic["channels"]:
                if channel["channel_name"] == CHANNEL:
                    return channel["clients"]
    return []


def wait_until(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Serve:
    """`playcount … -c serve` on `nsqd`, found directly or through its lookupd endpoints."""

    def __init__(self, playcount_bin: Path, nsqd: NsqdProcess, home: Path, *settings: str, via_lookupd=False):
        home.mkdir(exist_ok=True)
        flags = (["--lookupd-http-address", nsqd.http_address] if via_lookupd
                 else ["--nsqd-tcp-address", nsqd.tcp_address, "--nsqd-http-address", nsqd.http_address])
        self.process = subprocess.Popen(
            [str(playcount_bin), *flags, "--set", f"client=file:{home / 'calls.jsonl'}",
             *[arg for setting in settings for arg in ("--set", setting)], "-c", "serve"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=isolated_env(home), cwd=home)

    def finish(self, timeout: float = 60) -> tuple:
        """Waits for the exit; returns (status, stderr)."""
        _, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stderr

    def stop(self, sig=signal.SIGTERM) -> tuple:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.finish()


@pytest.fixture
def serves():
    started = []
    yield started.append
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
        serve.process.communicate(timeout=30)


def test_a_second_processor_on_an_owned_channel_is_refused_naming_the_first(playcount_bin, nsqd, tmp_path, serves):
    nsqd.publish(TOPIC, b'{"video_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}')
    first = Serve(playcount_bin, nsqd, tmp_path / "first")
    serves(first)
    wait_until(lambda: len(channel_clients(nsqd)) >= 1, "the first processor to subscribe")
    owner = {client["remote_address"] for client in channel_clients(nsqd)}

    for via_lookupd in (False, True):
        second = Serve(playcount_bin, nsqd, tmp_path / f"second-{via_lookupd}", via_lookupd=via_lookupd)
        serves(second)
        status, stderr = second.finish()
        assert status == 1, stderr
        assert f"{TOPIC}/{CHANNEL} already has a consumer" in stderr, stderr
        assert all(address in stderr for address in owner) and "playcount/1.0" in stderr, stderr
        assert "shared-channel=true" in stderr, stderr
        assert not (tmp_path / f"second-{via_lookupd}" / "calls.jsonl").exists()
    assert {client["remote_address"] for client in channel_clients(nsqd)} == owner

    # The override joins the channel, which then has both.
    shared = Serve(playcount_bin, nsqd, tmp_path / "shared", "shared-channel=true")
    serves(shared)
    wait_until(lambda: len({client["remote_address"] for client in channel_clients(nsqd)} - owner) >= 1,
               "the shared processor to subscribe")
    assert shared.stop()[0] == 0
    assert first.stop()[0] == 0


def test_a_killed_processor_does_not_block_its_restart(playcount_bin, nsqd, tmp_path, serves):
    nsqd.publish(TOPIC, b'{"video_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}')
    first = Serve(playcount_bin, nsqd, tmp_path / "first")
    serves(first)
    wait_until(lambda: len(channel_clients(nsqd)) >= 1, "the processor to subscribe")
    killed = {client["remote_address"] for client in channel_clients(nsqd)}
    first.process.kill()
    first.finish()
    restarted = Serve(playcount_bin, nsqd, tmp_path / "restarted")
    serves(restarted)
    wait_until(lambda: restarted.process.poll() is not None
               or any(client["remote_address"] not in killed for client in channel_clients(nsqd)),
               "the restarted processor to subscribe or exit")
    assert restarted.process.poll() is None, restarted.finish()[1]
    status, stderr = restarted.stop()
    assert status == 0, stderr

"""Invalid messages on the topic (published through the embedded broker's HTTP /pub while the processor runs)
are counted as invalid, crash nothing, and leave the valid counts exact."""

import json
import random
import re

from processor_helpers import (ShellSession, final_counts, http_pub, json_documents, publish_log_problems,
                               read_publish_log)

VIDEOS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7",
          "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b811-9dad-11d1-80b4-00c04fd430c8"]

INVALID_BODIES = [
    b"not json",
    b"{}",
    b"[]",
    b'{"video_id": "zzz"}',
    b'{"video_id": 5}',
    b'{"video_id": "0f8fad5b-d9cb-469f-a165-70867728950e"',
    b'{"video": "0f8fad5b-d9cb-469f-a165-70867728950e"}',
    b"\x00\xff\xfe\x80garbage",
    bytes(random.Random(4).randrange(256) for _ in range(300)),
]


def valid_plays(count: int, seed: int) -> list:
    chooser = random.Random(seed)
    return [chooser.choice(VIDEOS) for _ in range(count)]


def test_invalid_messages_are_counted_and_valid_counts_stay_exact(playcount_bin, tmp_path):
    log = tmp_path / "calls.jsonl"
    plays = valid_plays(150, seed=1)
    with ShellSession(playcount_bin, cwd=tmp_path) as shell:
        (address_line,) = shell.run("broker start", timeout=30)
        http_address = re.search(r"HTTP (\S+)", address_line).group(1)
        shell.run(f"set client file:{log}")
        shell.run("set max-staleness 2s")
        shell.run("start", timeout=30)
        # Interleave: a few valid plays, an invalid message, and so on.
        for index, video in enumerate(plays):
            http_pub(http_address, "plays", json.dumps({"video_id": video}).encode())
            if index % 15 == 7:
                http_pub(http_address, "plays", INVALID_BODIES[(index // 15) % len(INVALID_BODIES)])
        invalid = len([index for index in range(len(plays)) if index % 15 == 7])
        shell.run("wait drained --timeout 30s", timeout=40)
        (stats,) = json_documents("\n".join(shell.run("stats --json")))
        (status,) = json_documents("\n".join(shell.run("status --json")))
        shell.run("stop", timeout=30)
        assert shell.close() == 0, shell.errors

    assert stats["messages"] == len(plays) + invalid
    assert stats["invalid_messages"] == invalid
    assert stats["plays"] == len(plays)
    assert status["processorStatus"]["invalid_messages"] == invalid
    assert status["queue"]["depth"] == 0 and status["queue"]["inFlight"] == 0
    calls = read_publish_log(log)
    assert publish_log_problems(calls) == []
    expected = {video: plays.count(video) for video in set(plays)}
    assert final_counts(calls) == expected

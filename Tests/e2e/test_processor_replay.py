"""`replay` end to end: bad trace lines are reported as FILE:LINE and block publishing unless skipped, and a
receipt log written with `set record FILE` replays into a fresh run with the same per-video counts."""

import json
import re
from collections import Counter

from processor_helpers import final_counts, json_documents, publish_log_problems, read_publish_log

VIDEOS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7",
          "6ba7b810-9dad-11d1-80b4-00c04fd430c8"]
BAD_LINES = {3: "not json", 6: '{"at_ms": 5}', 9: '{"at_ms": 20, "video_id": "zzz"}',
             12: '{"at_ms": -5, "video_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}'}


def write_trace(path, good_plays: int) -> Counter:
    """A trace of `good_plays` plays over VIDEOS (skewed: 6:3:1), with BAD_LINES at their line numbers."""
    lines, expected, at_ms = [], Counter(), 0
    while len(lines) < good_plays + len(BAD_LINES):
        number = len(lines) + 1
        if number in BAD_LINES:
            lines.append(BAD_LINES[number])
            continue
        video = VIDEOS[(0, 0, 0, 0, 0, 0, 1, 1, 1, 2)[number % 10]]
        expected[video] += 1
        at_ms += 2
        lines.append(json.dumps({"at_ms": at_ms, "video_id": video}))
    path.write_text("\n".join(lines) + "\n")
    return expected


def test_bad_lines_are_reported_with_their_line_and_nothing_is_published(playcount, tmp_path):
    write_trace(tmp_path / "trace.jsonl", good_plays=200)
    result = playcount("--keep-going", "-c",
                       "replay trace.jsonl --speed inf; start; wait drained --timeout 30s; stats --json; stop")
    assert result.code == 1
    reported = re.findall(r"^trace\.jsonl:(\d+): error: .+$", result.stderr, re.MULTILINE)
    assert [int(line) for line in reported] == sorted(BAD_LINES), result.stderr
    assert "nothing published" in result.stderr
    (stats,) = json_documents(result.stdout)
    assert stats["messages"] == 0


def test_skip_bad_lines_publishes_the_good_ones(playcount, tmp_path):
    expected = write_trace(tmp_path / "trace.jsonl", good_plays=200)
    log = tmp_path / "calls.jsonl"
    result = playcount("-c", f"set client file:{log}; set max-staleness 2s; start; "
                             "replay trace.jsonl --speed inf --skip-bad-lines --json; "
                             "wait drained --timeout 30s; stats --json; stop")
    assert result.code == 0, result.stderr
    replayed, stats = json_documents(result.stdout)
    assert replayed["plays"] == 200 and replayed["bad_lines"] == len(BAD_LINES)
    assert len(re.findall(r"^trace\.jsonl:\d+: error:", result.stderr, re.MULTILINE)) == len(BAD_LINES)
    assert stats["messages"] == 200 and stats["invalid_messages"] == 0
    calls = read_publish_log(log)
    assert publish_log_problems(calls) == []
    assert final_counts(calls) == dict(expected)


def test_a_recorded_run_replays_to_the_same_counts(playcount, tmp_path):
    receipts = tmp_path / "receipts.jsonl"
    first = playcount("-c", f"set client file:{tmp_path / 'first.jsonl'}; set max-staleness 2s; "
                            f"set record {receipts}; start; seed 3000 zipf --videos 25 --small 8 --seed 9 --rate 2000; "
                            "wait drained --timeout 60s; counts --json; stop")
    assert first.code == 0, first.stderr
    (first_counts,) = json_documents(first.stdout)
    recorded = {row["video_id"]: row["counted"] for row in first_counts}
    assert sum(recorded.values()) == 3000
    assert len(receipts.read_text().splitlines()) == 3000

    log = tmp_path / "second.jsonl"
    second = playcount("-c", f"set client file:{log}; set max-staleness 2s; start; "
                             f"replay {receipts} --speed 4; wait drained --timeout 60s; counts --json; stop")
    assert second.code == 0, second.stderr
    (second_counts,) = json_documents(second.stdout)
    assert {row["video_id"]: row["counted"] for row in second_counts} == recorded
    calls = read_publish_log(log)
    assert publish_log_problems(calls) == []
    assert final_counts(calls) == recorded

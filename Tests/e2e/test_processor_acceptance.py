"""Acceptance test of issue 4: the user's reference workload, end to end on the embedded broker.

100,000 zipf plays over 100 videos are queued (a backlog), then the processor consumes them and publishes to a
`file:` client. The publish log itself is checked against the rules, independently of the built-in audit.
max-staleness is 30 s instead of 60 s to keep the run short: the debug build reads the backlog well within that
on this machine, so no play arrives past its deadline.
"""

from processor_helpers import final_counts, json_documents, publish_log_problems, read_publish_log, seeded_counts


def test_reference_workload_is_published_exactly_and_within_the_rules(playcount, tmp_path):
    log = tmp_path / "calls.jsonl"
    result = playcount(
        "-c",
        f"set client file:{log}; set max-staleness 30s; seed 100000 zipf --json; start; "
        "wait drained --timeout 150s; stats --json; audit --json; stop",
        timeout=240,
    )
    assert result.code == 0, result.stderr
    seed, stats, audit = json_documents(result.stdout)

    seeded = seeded_counts(seed)
    assert seed["plays"] == 100000 and sum(seeded.values()) == 100000
    assert len(seeded) == 100
    assert sum(1 for plays in seeded.values() if plays < 100) >= 15

    assert stats["messages"] == 100000 and stats["plays"] == 100000
    assert stats["invalid_messages"] == 0
    assert stats["late_plays"] == 0, "plays arrived past their deadline: the machine was too slow for 30 s"
    assert audit["ok"] is True and audit["violations"] == [], audit["violations"][:5]
    assert audit["calls"] == stats["calls"]

    calls = read_publish_log(log)
    assert len(calls) == stats["calls"]
    assert publish_log_problems(calls) == []
    assert final_counts(calls) == seeded
    assert max(len(call["counts"]) for call in calls) <= 20

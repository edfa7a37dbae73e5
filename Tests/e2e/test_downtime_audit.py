"""The outside audit of a run with restarts (downtime_audit.py) finds what it must: it is what lets the crash
test fail on a deadline missed while the processor was up, so it is checked here on hand-made runs."""

import datetime

from downtime_audit import PublishedPlay, call_violations, deadline_violations, outside

SECOND = 1_000_000_000
T0 = 1_800_000_000 * SECOND
A, B = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"


def call(sequence: int, at_ns: int, counts: dict) -> dict:
    stamp = datetime.datetime.fromtimestamp(at_ns // SECOND, datetime.timezone.utc)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{at_ns % SECOND // 1000:06d}Z"
    return {"sequence": sequence, "published_at": text, "counts": counts}


def late(calls, plays, threshold=100):
    return deadline_violations(calls, plays, threshold, realtime_budget_ns=SECOND, max_staleness_ns=3 * SECOND)


def test_a_realtime_play_shown_in_time_is_fine_and_one_shown_late_is_a_violation_unless_in_a_window():
    plays = [PublishedPlay(T0, A), PublishedPlay(T0 + 5 * SECOND, A)]
    calls = [call(1, T0 + SECOND // 2, {A: 1}), call(2, T0 + 7 * SECOND, {A: 2})]
    found = late(calls, plays)
    assert [(v.rule, v.at_ns) for v in found] == [("rule 1", T0 + 6 * SECOND)]
    assert outside(found, [(T0 + 4 * SECOND, T0 + 6 * SECOND)]) == []
    assert outside(found, [(T0 + 7 * SECOND, T0 + 9 * SECOND)]) == found


def test_held_plays_have_the_max_staleness_and_a_play_never_shown_is_late():
    plays = [PublishedPlay(T0 + i, A) for i in range(3)] + [PublishedPlay(T0, B)]
    # A: play 1 realtime (threshold 1) in time, plays 2-3 held: only play 2 shown within 3 s. B: never shown.
    calls = [call(1, T0 + SECOND // 2, {A: 1}), call(2, T0 + 2 * SECOND, {A: 2})]
    found = late(calls, plays, threshold=1)
    assert sorted((v.rule, v.detail.split()[0]) for v in found) == [("rule 1", B), ("rule 2", A)]


def test_calls_must_keep_to_rules_3_and_4_and_number_their_sequences():
    videos = [f"00000000-0000-4000-8000-{i:012d}" for i in range(21)]
    calls = [call(1, T0, {v: 1 for v in videos}), call(2, T0, {A: 1}), call(3, T0, {A: 1}), call(5, T0, {B: 1})]
    assert [v.rule for v in call_violations(calls)] == ["rule 3", "rule 4", "sequence"]


def test_a_resend_after_a_restart_repeats_its_sequence_with_counts_at_least_as_new():
    ok = [call(1, T0, {A: 1}), call(2, T0, {A: 2, B: 1}), call(2, T0 + SECOND, {A: 2, B: 3}), call(3, T0, {A: 4})]
    assert call_violations(ok) == []
    went_back = [call(1, T0, {A: 1}), call(2, T0, {A: 3, B: 1}), call(2, T0, {A: 2, B: 1})]
    assert [v.rule for v in call_violations(went_back)] == ["resend"]
    lost = [call(1, T0, {A: 1}), call(2, T0, {A: 3, B: 1}), call(2, T0, {A: 3})]
    assert [v.rule for v in call_violations(lost)] == ["resend"]
    unchanged = [call(1, T0, {A: 1}), call(2, T0, {A: 1, B: 1}), call(2, T0, {A: 1, B: 1})]
    assert [v.rule for v in call_violations(unchanged)] == ["rule 4", "rule 4"]

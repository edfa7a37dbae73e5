"""The user's publish rules checked from the outside over a run in which the processor was killed and restarted.

The product's `audit FILE --receipts LOG` checks such a run from the processor's own record; this module
checks it independently, sharing no code with the product, from what a client and a producer can observe:

- the client's calls (the `file:` client's JSON lines: sequence, published_at, counts), and
- the producer's own log of when each play was published (`PublishedPlay`: the wall-clock instant its MPUB
  returned, no earlier than nsqd's queue timestamp).

Rules 3 and 4 are checked call by call. A call whose sequence repeats the previous one is the resend of a call
that was not acknowledged before a crash: it replaces that call (counts at least as new, the same videos), and its
counts are compared with what the client showed *before* the original call.

Rules 1 and 2 are checked per video by counting: the k-th play of a video (in publish order) has a deadline,
its publish instant plus `realtime_budget` for k <= `realtime_threshold` (rule 1, "at once") or plus
`max_staleness` (rule 2); by that deadline the client must show a count >= k. Plays are indistinguishable to
the client, so this is exactly "every play visible by its deadline".

Each violation carries the instant it happened (a missed deadline, or the call's time), so a test can demand
that every violation falls inside a downtime window.
"""

import bisect
import dataclasses
import datetime

MAX_VIDEOS_PER_CALL = 20


@dataclasses.dataclass(frozen=True)
class PublishedPlay:
    """One play as the producer published it: `at_ns` is wall-clock nanoseconds once nsqd had taken it."""

    at_ns: int
    video: str


@dataclasses.dataclass(frozen=True)
class Violation:
    rule: str
    at_ns: int
    detail: str


def published_at_ns(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 `published_at` such as 2026-11-29T09:50:44.123456Z."""
    stamp = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ") if "." in text else \
        datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    whole = int(stamp.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + stamp.microsecond * 1_000


def call_violations(calls: list) -> list:
    """Rules 3 and 4 and sequence continuity, in the order the client received the calls."""
    violations = []
    shown = {}
    before_original = {}
    original = None
    previous_sequence = 0
    for call in calls:
        at = published_at_ns(call["published_at"])
        sequence, counts = call["sequence"], call["counts"]
        if len(counts) > MAX_VIDEOS_PER_CALL:
            violations.append(Violation("rule 3", at, f"call {sequence} carries {len(counts)} videos"))
        if sequence == previous_sequence and original is not None:
            # A resend after a restart: the same call with newer counts; it must not go back on the original.
            missing = set(original) - set(counts)
            if missing:
                violations.append(Violation("resend", at, f"resent call {sequence} lost videos {sorted(missing)}"))
            for video, plays in counts.items():
                if plays < original.get(video, 0):
                    violations.append(Violation(
                        "resend", at, f"resent call {sequence}: {video} {plays} < {original[video]} sent before"))
            baseline = before_original
        elif sequence == previous_sequence + 1:
            before_original = dict(shown)
            baseline = shown
        else:
            violations.append(Violation("sequence", at, f"call {sequence} after call {previous_sequence}"))
            before_original = dict(shown)
            baseline = shown
        for video, plays in counts.items():
            last = baseline.get(video, 0)
            if plays <= last:
                violations.append(Violation(
                    "rule 4", at, f"call {sequence}: {video} published {plays} after {last} was shown"))
        original = dict(counts) if sequence != previous_sequence else {**original, **counts}
        previous_sequence = sequence
        shown.update(counts)
    return violations


def deadline_violations(calls: list, plays: list, realtime_threshold: int, realtime_budget_ns: int,
                        max_staleness_ns: int) -> list:
    """Rules 1 and 2: each play visible in the client by its deadline (see the module's doc)."""
    history = {}
    for call in calls:
        at = published_at_ns(call["published_at"])
        for video, count in call["counts"].items():
            history.setdefault(video, []).append((at, count))
    visible = {}
    for video, entries in history.items():
        entries.sort()
        times, best, highest = [], [], 0
        for at, count in entries:
            highest = max(highest, count)
            times.append(at)
            best.append(highest)
        visible[video] = (times, best)

    violations = []
    rank = {}
    for play in sorted(plays, key=lambda play: play.at_ns):
        k = rank.get(play.video, 0) + 1
        rank[play.video] = k
        budget = realtime_budget_ns if k <= realtime_threshold else max_staleness_ns
        deadline = play.at_ns + budget
        times, best = visible.get(play.video, ([], []))
        index = bisect.bisect_right(times, deadline) - 1
        shown = best[index] if index >= 0 else 0
        if shown < k:
            rule = "rule 1" if k <= realtime_threshold else "rule 2"
            violations.append(Violation(rule, deadline, f"{play.video} play {k}: client showed {shown} by its deadline"))
    return violations


def outside(violations: list, windows: list) -> list:
    """The violations whose instant lies in none of the `(start_ns, end_ns)` windows."""
    return [v for v in violations if not any(start <= v.at_ns <= end for start, end in windows)]

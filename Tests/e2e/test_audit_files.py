"""`audit PUBLISH_LOG --receipts RECEIPT_LOG` end to end (issues #4/#5).

- The limits of a file audit are the shell's settings (`--set max-staleness=3s`), the ones `start` would use,
  even in a shell where no processor ran; the report names them.
- A call repeating the latest sequence (a resend after a lost acknowledgement) is counted, not a rule-4 violation.
- `audit` itself exits 0 when it finds violations; `--strict` makes it fail.
"""

import datetime
import json

from processor_helpers import json_documents

VIDEO = "0f8fad5b-d9cb-469f-a165-70867728950e"
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND


def rfc3339(ns: int) -> str:
    stamp = datetime.datetime.fromtimestamp(ns // SECOND, datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns % SECOND) // 1000:06d}Z"


def call_line(sequence: int, at_ns: int, plays: int) -> str:
    return json.dumps({"sequence": sequence, "published_at": rfc3339(at_ns), "counts": {VIDEO: plays}})


def write_held_play_logs(tmp_path, late_s: int, resend: bool = False):
    """Issue #4's reproduction: 100 realtime plays read at T0, a held 101st play queued and read at T0 + 1 s and
    shown `late_s` seconds after it was queued. `resend` repeats that call (a resend after a restart)."""
    receipt = {"at_ms": 0, "video_id": VIDEO, "queued_ns": T0, "received_ns": T0, "batch": 1}
    lines = [json.dumps(receipt)] * 100
    lines.append(json.dumps({"at_ms": 1000, "video_id": VIDEO, "queued_ns": T0 + SECOND,
                             "received_ns": T0 + SECOND, "batch": 2}))
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    calls = [call_line(1, T0, 100), call_line(2, T0 + SECOND + late_s * SECOND, 101)]
    if resend:
        calls.append(calls[-1])
    (tmp_path / "calls.jsonl").write_text("\n".join(calls) + "\n")


def test_a_file_audit_uses_the_max_staleness_setting(playcount, tmp_path):
    write_held_play_logs(tmp_path, late_s=10)
    result = playcount("--set", "max-staleness=3s", "-c", "audit calls.jsonl --receipts r.jsonl")
    assert result.code == 0, result.stderr  # violations are reported, not a command failure
    assert "audit ok" not in result.stdout, result.stdout
    assert "held_play_stale" in result.stdout
    assert "audit: 1 violation(s) in 101 plays, 2 calls" in result.stdout
    assert "max staleness 3 s" in result.stdout and "from the settings" in result.stdout

    strict = playcount("--set", "max-staleness=3s", "-c", "audit calls.jsonl --receipts r.jsonl --strict")
    assert strict.code != 0
    assert "error: audit: 1 violation(s)" in strict.stderr, strict.stderr

    default = playcount("-c", "audit calls.jsonl --receipts r.jsonl --strict")
    assert default.code == 0, default.stderr
    assert "audit ok: 101 plays, 2 calls" in default.stdout and "max staleness 60 s" in default.stdout

    write_held_play_logs(tmp_path, late_s=70)
    late = playcount("-c", "audit calls.jsonl --receipts r.jsonl --json")
    assert late.code == 0, late.stderr
    (report,) = json_documents(late.stdout)
    assert report["ok"] is False and [v["rule"] for v in report["violations"]] == ["held_play_stale"]
    assert report["limits"]["max_staleness_ns"] == 60 * SECOND and report["limits"]["source"] == "settings"


def test_a_resent_call_is_counted_not_flagged(playcount, tmp_path):
    write_held_play_logs(tmp_path, late_s=2, resend=True)
    result = playcount("--set", "max-staleness=3s", "-c", "audit calls.jsonl --receipts r.jsonl --json --strict")
    assert result.code == 0, result.stderr
    (report,) = json_documents(result.stdout)
    assert report["ok"] is True and report["violations"] == [], report["violations"]
    assert report["calls"] == 3 and report["resends"] == 1


def test_a_recorded_run_audits_clean_from_its_files_in_a_fresh_shell(playcount, tmp_path):
    run = playcount("-c", "set client file:calls.jsonl; set max-staleness 2s; set record r.jsonl; start; "
                          "seed 3000 zipf --videos 25 --small 8 --seed 9 --rate 2000; "
                          "wait drained --timeout 60s; stop")
    assert run.code == 0, run.stderr
    calls = (tmp_path / "calls.jsonl").read_text().splitlines()
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3000

    audit = playcount("--set", "max-staleness=2s", "-c", "audit calls.jsonl --receipts r.jsonl --json --strict")
    assert audit.code == 0, audit.stdout + audit.stderr
    (report,) = json_documents(audit.stdout)
    assert report["plays"] == 3000 and report["calls"] == len(calls) and report["resends"] == 0
    assert report["limits"]["max_staleness_ns"] == 2 * SECOND

    # The last call resent after a restart (its acknowledgement lost) is no violation ...
    (tmp_path / "calls.jsonl").write_text("\n".join(calls + calls[-1:]) + "\n")
    resent = playcount("--set", "max-staleness=2s", "-c", "audit calls.jsonl --receipts r.jsonl --json --strict")
    assert resent.code == 0, resent.stdout + resent.stderr
    (report,) = json_documents(resent.stdout)
    assert report["resends"] == 1 and report["violations"] == []
    # ... but an earlier call replayed after later ones goes back in sequence.
    (tmp_path / "calls.jsonl").write_text("\n".join(calls + calls[:1]) + "\n")
    replayed = playcount("--set", "max-staleness=2s", "-c", "audit calls.jsonl --receipts r.jsonl --json")
    assert replayed.code == 0, replayed.stderr
    (report,) = json_documents(replayed.stdout)
    assert "sequence_backwards" in [v["rule"] for v in report["violations"]]

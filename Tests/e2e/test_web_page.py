"""The web page in a real browser (Debian's chromium, driven by playwright): `client web` on playcount's own HTTP
server, pages opened before `start`, reconnected mid-run and opened after the run, each ending with every
video's count equal to what was seeded; and `playcount-web`, the page apart from the processor, fed by the
webhook (a retried call under the same Idempotency-Key among its calls). Screenshots go to the test's directory.
"""

import json
import re
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import executable, isolated_env
from processor_helpers import ShellSession, json_documents, seeded_counts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (Scripts/install-deps)")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def shown_counts(page) -> dict:
    """{video: plays} as the page's table shows it."""
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#rows tr')].map(r => [r.dataset.video, +r.dataset.plays]))")


def wait_until_shown(page, expected: dict, timeout_ms: int = 60_000):
    """Waits until the page's table shows exactly `expected`."""
    page.wait_for_function(
        """expected => {
            const rows = [...document.querySelectorAll('#rows tr')];
            if (rows.length !== Object.keys(expected).length) return false;
            return rows.every(r => expected[r.dataset.video] === +r.dataset.plays);
        }""", arg=expected, timeout=timeout_ms)


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_function("() => document.getElementById('connection').textContent === 'live'", timeout=30_000)
    return page


def merged(*documents) -> dict:
    total = {}
    for document in documents:
        for video, plays in seeded_counts(document).items():
            total[video] = total.get(video, 0) + plays
    return total


def test_client_web_pages_before_during_and_after_a_run_end_exact(playcount_bin, browser, tmp_path):
    with ShellSession(playcount_bin, "--http-address", "127.0.0.1:0", cwd=tmp_path,
                      env=isolated_env(tmp_path)) as shell:
        assert shell.wait_for_error("http: /metrics"), shell.errors
        (line,) = [line for line in shell.errors if "http: /metrics" in line]
        address = re.search(r"on http://(127\.0\.0\.1:\d+)", line).group(1)
        url = f"http://{address}/"
        # The same server as --http-address: the page is up before `start`.
        shell.run(f"set client web:{address}")
        early = open_page(browser, url)
        resumed = open_page(browser, url)
        assert shown_counts(early) == {}

        shell.run("set max-staleness 3s")
        shell.run("start", timeout=30)
        first = json_documents("\n".join(shell.run(
            "seed 10000 zipf --videos 60 --small 20 --seed 21 --rate 5000 --json", timeout=120)))[0]
        # Mid-run: a new stream that resumes from the last event this page saw.
        resumed.evaluate("() => window.playcount.reconnect()")
        second = json_documents("\n".join(shell.run(
            "seed 10000 zipf --videos 60 --small 20 --seed 21 --rate 5000 --json", timeout=120)))[0]
        shell.run("wait drained --timeout 60s", timeout=90)
        (stats,) = json_documents("\n".join(shell.run("stats --json")))
        expected = merged(first, second)
        assert sum(expected.values()) == 20_000

        wait_until_shown(early, expected)
        wait_until_shown(resumed, expected)
        assert int(early.evaluate("() => document.body.dataset.calls")) == stats["calls"]
        early.wait_for_function(
            "bound => document.getElementById('bound').textContent === bound",
            arg=f"{stats['lower_bound']:,}", timeout=10_000)
        late = open_page(browser, url)  # opened after the run: starts from the snapshot
        wait_until_shown(late, expected)
        # Sortable: by plays, most first (the default); one click on the video header sorts by id, ascending.
        assert list(shown_counts(late).values()) == sorted(expected.values(), reverse=True)
        late.click("th[data-key=video]")
        late.wait_for_function(
            """() => { const ids = [...document.querySelectorAll('#rows tr')].map(r => r.dataset.video);
                       return ids.length > 1 && ids.every((id, i) => i === 0 || ids[i - 1] < id); }""")
        early.screenshot(path=str(tmp_path / "web-page.png"), full_page=True)
        assert (tmp_path / "web-page.png").stat().st_size > 10_000
        for page in (early, resumed, late):
            page.close()
        shell.run("stop", timeout=30)


class PlaycountWeb:
    """`playcount-web --http-address 127.0.0.1:0`, stopped by SIGTERM on exit."""

    def __init__(self, binary: Path, tmp_path: Path):
        self.process = subprocess.Popen([str(binary), "--http-address", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        line = self.process.stdout.readline()
        match = re.fullmatch(r"playcount-web: (http://127\.0\.0\.1:\d+/)\n", line)
        if not match:
            self.stop()
            pytest.fail(f"unexpected first line from playcount-web: {line!r} {self.process.stderr.read()}")
        self.url = match.group(1)

    def post(self, body: bytes, key: str = None):
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(self.url + "calls", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def test_playcount_web_follows_the_webhook_and_deduplicates_retries(playcount_bin, bin_dir, browser, tmp_path):
    web = PlaycountWeb(executable(bin_dir, "playcount-web"), tmp_path)
    try:
        page = open_page(browser, web.url)
        # The processor's webhook publishes to it.
        result = subprocess.run(
            [str(playcount_bin), "--set", f"client={web.url}calls", "-c",
             "set max-staleness 2s; start; seed 5000 zipf --videos 40 --small 15 --seed 4 --rate 5000 --json; "
             "wait drained --timeout 60s; stop"],
            capture_output=True, text=True, cwd=tmp_path, env=isolated_env(tmp_path), timeout=120)
        assert result.returncode == 0, result.stderr
        expected = seeded_counts(json_documents(result.stdout)[0])
        wait_until_shown(page, expected)

        # A call, then its retry under the same key with a newer count (its first answer was lost), then the
        # same retry again: counted as one call, the newer count shown once.
        video = "0f8fad5b-d9cb-469f-a165-70867728950e"
        calls_before = int(page.evaluate("() => document.body.dataset.calls"))
        call = {"sequence": 9001, "published_at": "2026-12-04T10:00:00.000001Z", "counts": {video: 120}}
        assert web.post(json.dumps(call).encode(), key="run-2:9001") == (200, {"ok": True, "duplicate": False})
        call["counts"][video] = 125
        assert web.post(json.dumps(call).encode(), key="run-2:9001") == (200, {"ok": True, "duplicate": False})
        assert web.post(json.dumps(call).encode(), key="run-2:9001") == (200, {"ok": True, "duplicate": True})
        expected[video] = 125
        wait_until_shown(page, expected)
        assert int(page.evaluate("() => document.body.dataset.calls")) == calls_before + 1

        # A browser's own reconnection sends Last-Event-ID: it is sent the events after it, first of all the next.
        last = int(page.evaluate("() => document.body.dataset.lastEvent"))
        request = urllib.request.Request(web.url + "events", headers={"Last-Event-ID": str(last - 1)})
        with urllib.request.urlopen(request, timeout=10) as stream:
            first_id = next(line for line in iter(stream.readline, b"") if line.startswith(b"id: "))
        assert first_id == f"id: {last}\n".encode()

        # Bad input: a clear 400, nothing shown changes.
        status, answer = web.post(b"not json")
        assert status == 400 and "not a call" in answer["error"]
        status, answer = web.post(json.dumps({"sequence": 1, "published_at": "2026-12-04T10:00:00Z",
                                              "counts": {"zzz": 1}}).encode())
        assert status == 400 and "not a video id: zzz" in answer["error"]
        assert shown_counts(page) == expected
        # The page stays open while the service stops: its stream ends, the stop is graceful.
    finally:
        code = web.stop()
    assert code == 0, web.process.stderr.read()

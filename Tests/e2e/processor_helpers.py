"""Helpers for the processor's end-to-end tests: publish logs, JSON output, a scripted webhook server,
an external playcount-nsqd, and a playcount shell driven line by line over a pipe.

Everything that starts a process, thread or socket is a context manager that stops it on exit.
"""

import json
import queue
import re
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_VIDEOS_PER_CALL = 20


# ---------------------------------------------------------------------------------------------------------------
# Output parsing


def json_documents(text: str) -> list:
    """Every JSON document printed in `text`: each one starts a line with `{` or `[` (tables and other lines
    are skipped)."""
    decoder = json.JSONDecoder()
    documents = []
    position = 0
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        if text[position] in "{[":
            document, end = decoder.raw_decode(text, position)
            documents.append(document)
            next_line = text.find("\n", end)
            position = len(text) if next_line < 0 else next_line + 1
        else:
            position = line_end + 1
    return documents


def seeded_counts(seed_document: dict) -> dict:
    """{video_id: plays} from the `seed --json` document."""
    return {entry["video_id"]: entry["plays"] for entry in seed_document["per_video"]}


def read_publish_log(path: Path) -> list:
    """The calls a `file:` client wrote: one JSON object per line."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def final_counts(calls: list) -> dict:
    """Each video's count in the last call that carried it (what the client ends up showing)."""
    shown = {}
    for call in calls:
        shown.update(call["counts"])
    return shown


def publish_log_problems(calls: list) -> list:
    """What the sequence of calls does wrong: shape, sequences not 1..n, more than 20 videos in a call, a count
    republished unchanged, a count going down. Empty when the calls are fine."""
    problems = []
    shown = {}
    for index, call in enumerate(calls, start=1):
        if set(call) != {"sequence", "published_at", "counts"}:
            problems.append(f"call {index}: keys {sorted(call)}")
            continue
        if call["sequence"] != index:
            problems.append(f"call {index}: sequence {call['sequence']}, expected {index}")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", call["published_at"]):
            problems.append(f"call {index}: published_at {call['published_at']!r}")
        counts = call["counts"]
        if not counts:
            problems.append(f"call {index}: no videos")
        if len(counts) > MAX_VIDEOS_PER_CALL:
            problems.append(f"call {index}: {len(counts)} videos")
        for video, count in counts.items():
            if not isinstance(count, int) or count < 1:
                problems.append(f"call {index}: {video} count {count!r}")
            elif video in shown and count == shown[video]:
                problems.append(f"call {index}: {video} republished unchanged at {count}")
            elif video in shown and count < shown[video]:
                problems.append(f"call {index}: {video} went down from {shown[video]} to {count}")
            shown[video] = count
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Webhook server


class WebhookRequest:
    """One request the webhook server received and the status it answered."""

    def __init__(self, method: str, path: str, headers: dict, body: bytes, status: int):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.status = status
        self.received_at = time.monotonic()

    def json(self):
        return json.loads(self.body)


class WebhookServer:
    """An HTTP server on a loopback port, in a thread, recording every request.

    `fail_first` requests are answered 500; after `refuse_all()` every request is answered 503; the rest 200.
    `port=0` picks a free port. With `tls=(certfile, keyfile)` it serves https (each connection's handshake
    runs in its handler thread). Use as a context manager; leaving it also closes the kept-alive connections,
    so that the server is really gone (a client cannot keep talking to a lingering handler thread).
    """

    def __init__(self, port: int = 0, fail_first: int = 0, tls: "tuple | None" = None):
        self.requests: list = []
        self.fail_first = fail_first
        self.refusing = False
        self._connections: set = set()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with server._lock:
                    server._connections.add(self.connection)

            def finish(self):
                with server._lock:
                    server._connections.discard(self.connection)
                super().finish()

            def do_POST(self):  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with server._lock:
                    if server.refusing:
                        status = 503
                    else:
                        status = 500 if len(server.requests) < server.fail_first else 200
                    server.requests.append(WebhookRequest(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, status))
                    server._changed.notify_all()
                reply = b'{"ok": true}' if status == 200 else b"scripted failure"
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_PUT = do_POST  # record wrong methods too

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile=str(tls[0]), keyfile=str(tls[1]))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True,
                                                      do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/counts"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client
        self._thread.join(timeout=5)

    def refuse_all(self) -> None:
        """From now on every request is answered 503 (the server is going down)."""
        with self._lock:
            self.refusing = True

    def snapshot(self) -> list:
        with self._lock:
            return list(self.requests)

    def wait_for(self, predicate, timeout: float) -> bool:
        """Waits until `predicate(requests)` holds; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True


# ---------------------------------------------------------------------------------------------------------------
# External broker


class NsqdProcess:
    """`playcount-nsqd` on free loopback ports; `tcp_address` and `http_address` are host:port."""

    def __init__(self, executable: Path, *extra: str):
        self._command = [str(executable), "--tcp-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0", *extra]
        self._process = None
        self.tcp_address = ""
        self.http_address = ""

    def __enter__(self):
        self._process = subprocess.Popen(self._command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: lines.put(self._process.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=30)
        except queue.Empty:
            line = ""
        match = re.match(r"playcount-nsqd: TCP (\S+) HTTP (\S+)", line)
        if not match:
            self.__exit__(None, None, None)
            raise RuntimeError(f"playcount-nsqd did not start: {line!r}")
        self.tcp_address, self.http_address = match.groups()
        return self

    def __exit__(self, *exc):
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def publish(self, topic: str, body: bytes) -> None:
        """One message via HTTP /pub."""
        http_pub(self.http_address, topic, body)

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://{self.http_address}/stats?format=json", timeout=10) as answer:
            return json.loads(answer.read())


def http_pub(http_address: str, topic: str, body: bytes) -> None:
    """Publishes one message through an nsqd HTTP API (playcount-nsqd's or the embedded broker's)."""
    request = urllib.request.Request(f"http://{http_address}/pub?topic={topic}", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        reply = answer.read()
        if answer.status != 200 or reply != b"OK":
            raise RuntimeError(f"/pub answered {answer.status} {reply!r}")


# ---------------------------------------------------------------------------------------------------------------
# A playcount shell driven over a pipe


class ShellSession:
    """A `playcount` process reading commands from a pipe, one at a time.

    `run(command)` sends the command followed by an `echo` marker and returns the stdout lines printed up to the
    marker (commands run in order, so the marker follows the command's output). stderr is collected in `errors`.
    """

    def __init__(self, executable: Path, *args: str, cwd=None, env=None):
        self._process = subprocess.Popen([str(executable), "--keep-going", *args], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
        self._lines: queue.Queue = queue.Queue()
        self._errors: list = []
        self._counter = 0
        threading.Thread(target=self._pump, args=(self._process.stdout, self._lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self._process.stderr, self._errors.append), daemon=True).start()

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))
        sink(None)

    @property
    def errors(self) -> list:
        return [line for line in self._errors if line is not None]

    def wait_for_error(self, text: str, timeout: float = 10) -> bool:
        """Waits until a stderr line contains `text` (stderr is read by its own thread, so it can lag stdout)."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.errors):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def run(self, command: str, timeout: float = 60) -> list:
        self._counter += 1
        marker = f"__done_{self._counter}__"
        self._process.stdin.write(f"{command}\necho {marker}\n")
        self._process.stdin.flush()
        output = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(0.01, remaining))
            except queue.Empty:
                raise TimeoutError(f"{command!r} did not finish within {timeout}s; printed {output}") from None
            if line is None:
                raise RuntimeError(f"playcount exited during {command!r}; stderr: {self.errors}")
            if line == marker:
                return output
            output.append(line)

    def close(self, timeout: float = 60) -> int:
        """Sends `quit`, waits for the exit, returns the exit status (kills on timeout)."""
        if self._process.poll() is None:
            try:
                self._process.stdin.write("quit\n")
                self._process.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        return self._process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""End-to-end: the real playcount-nsqd and `playcount-bench nsq` binaries, with pynsq on the other side.

Binaries come from $PLAYCOUNT_BIN_DIR, else `swift build --show-bin-path` (build first: `swift build`).
Every process started here is stopped at the end of its test.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = PACKAGE_ROOT / "Scripts"


def _bin_dir() -> Path:
    explicit = os.environ.get("PLAYCOUNT_BIN_DIR")
    if explicit:
        return Path(explicit)
    shown = subprocess.run(["swift", "build", "--show-bin-path"], cwd=PACKAGE_ROOT,
                           capture_output=True, text=True, timeout=300)
    if shown.returncode != 0:
        pytest.fail(f"swift build --show-bin-path failed: {shown.stderr.strip()}")
    return Path(shown.stdout.strip())


def _executable(name: str) -> Path:
    path = _bin_dir() / name
    if not path.exists():
        pytest.fail(f"{path} does not exist; run `swift build` first (or set PLAYCOUNT_BIN_DIR)")
    return path


def _have_pynsq() -> bool:
    try:
        import nsq  # noqa: F401
        import tornado  # noqa: F401
        return True
    except ImportError:
        return False


requires_pynsq = pytest.mark.skipif(not _have_pynsq(), reason="python3 packages nsq (pynsq) and tornado are not installed")


@pytest.fixture
def nsqd():
    """A playcount-nsqd on free loopback ports; yields its TCP address."""
    process = subprocess.Popen(
        [str(_executable("playcount-nsqd")), "--tcp-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.match(r"playcount-nsqd: TCP (\S+) HTTP (\S+)", line)
        assert match, f"unexpected first line from playcount-nsqd: {line!r}"
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _bench(address: str, *arguments: str, timeout: float = 120) -> str:
    result = subprocess.run([str(_executable("playcount-bench")), "nsq", "--nsqd-tcp-address", address, *arguments],
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bench_publishes_and_drains_every_message(nsqd):
    output = _bench(nsqd, "--count", "20000", "--size", "100")
    assert re.search(r"^publish: 20000 msgs in [0-9.]+ s = \d+ msgs/s$", output, re.M), output
    assert re.search(r"^drain: 20000 msgs in [0-9.]+ s = \d+ msgs/s$", output, re.M), output
    assert "20000 finished" in output


@requires_pynsq
def test_playcount_publish_then_pynsq_reader_drains(nsqd):
    _bench(nsqd, "--topic", "e2e_py_in", "--count", "2000", "--size", "40", "--phase", "publish")
    result = subprocess.run([sys.executable, str(SCRIPTS / "pynsq_reader.py"), nsqd, "e2e_py_in", "py", "2000",
                             "--print", "--timeout", "60"], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    bodies = result.stdout.splitlines()
    assert len(bodies) == 2000
    assert all(body.startswith('{"video_id":"') and len(body) == 40 for body in bodies)


@requires_pynsq
def test_pynsq_writer_then_playcount_drains(nsqd):
    writer = subprocess.run([sys.executable, str(SCRIPTS / "pynsq_writer.py"), nsqd, "e2e_py_out", "1000", "w"],
                            capture_output=True, text=True, timeout=60)
    assert writer.returncode == 0, writer.stderr
    output = _bench(nsqd, "--topic", "e2e_py_out", "--count", "1000", "--phase", "drain")
    assert re.search(r"^drain: 1000 msgs in", output, re.M), output
    assert "1000 finished" in output

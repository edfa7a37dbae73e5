"""Shared pytest fixtures for the end-to-end tests.

Binaries come from $PLAYCOUNT_BIN_DIR, else from `swift build --show-bin-path` in the package root
(build them first: `swift build`). Every helper runs processes with a timeout and never leaves them behind.
"""

import dataclasses
import os
import socket
import subprocess
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def find_bin_dir() -> Path:
    """The directory holding the built executables."""
    explicit = os.environ.get("PLAYCOUNT_BIN_DIR")
    if explicit:
        return Path(explicit)
    shown = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=300
    )
    if shown.returncode != 0:
        pytest.fail(f"swift build --show-bin-path failed: {shown.stderr.strip()}")
    return Path(shown.stdout.strip())


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    return find_bin_dir()


def executable(bin_dir: Path, name: str) -> Path:
    path = bin_dir / name
    if not path.exists():
        pytest.fail(f"{path} does not exist; run `swift build` first (or set PLAYCOUNT_BIN_DIR)")
    return path


@pytest.fixture(scope="session")
def binary(bin_dir: Path):
    """A callable `binary("playcount-nsqd")` -> Path of that built executable (fails clearly if missing)."""
    return lambda name: executable(bin_dir, name)


@pytest.fixture(scope="session")
def playcount_bin(bin_dir: Path) -> Path:
    """Path of the `playcount` executable."""
    return executable(bin_dir, "playcount")


@dataclasses.dataclass
class Result:
    """What a finished process printed and returned."""

    stdout: str
    stderr: str
    code: int
    stdout_bytes: bytes = b""


def isolated_env(home: Path, **extra: str) -> dict:
    """The current environment with HOME/XDG_STATE_HOME pointing into `home` and no history override."""
    env = dict(os.environ)
    env.pop("PLAYCOUNT_HISTORY", None)
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"), LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.update(extra)
    return env


def run_playcount(binary: Path, *args: str, stdin: "str | bytes | None" = None, cwd=None, env=None,
                  timeout: float = 120) -> Result:
    """Runs playcount with `args`, feeding `stdin` (text or bytes; empty when None), and captures output."""
    data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
    done = subprocess.run([str(binary), *args], input=data, capture_output=True, cwd=cwd, env=env, timeout=timeout)
    return Result(
        stdout=done.stdout.decode(errors="replace"),
        stderr=done.stderr.decode(errors="replace"),
        code=done.returncode,
        stdout_bytes=done.stdout,
    )


@pytest.fixture
def playcount(playcount_bin: Path, tmp_path: Path):
    """A callable `playcount(*args, stdin=None, cwd=None, env=None)` -> Result, isolated in tmp_path."""
    home = tmp_path / "home"
    home.mkdir()

    def run(*args: str, stdin=None, cwd=None, env=None, timeout: float = 120) -> Result:
        return run_playcount(playcount_bin, *args, stdin=stdin, cwd=cwd or tmp_path,
                             env=env or isolated_env(home), timeout=timeout)

    return run


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than ~15 s; skip with -m 'not slow' (CI runs them)")

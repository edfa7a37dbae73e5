"""Every examples/*.playcount script runs to completion (exit 0) from the repository root, as the README shows.

The scripts check themselves with `expect` (audit ok, counts == seeded, call bounds), so exit 0 means they hold.
Long ones are marked slow: `pytest -m "not slow"` skips them; CI runs them all.
"""

import pytest

from conftest import PACKAGE_ROOT

EXAMPLES = sorted((PACKAGE_ROOT / "examples").glob("*.playcount"))
# Seconds each example takes in a debug build on the development machine, when more than ~15 s.
SLOW = {"quickstart": 75, "live-stream": 50, "backlog": 35}


def example_param(path):
    marks = [pytest.mark.slow] if path.stem in SLOW else []
    return pytest.param(path, id=path.stem, marks=marks)


def test_examples_are_found():
    assert {path.stem for path in EXAMPLES} >= {"quickstart", "replay"}


@pytest.mark.parametrize("script", [example_param(path) for path in EXAMPLES])
def test_example_runs_cleanly(playcount, script):
    result = playcount(str(script.relative_to(PACKAGE_ROOT)), cwd=PACKAGE_ROOT,
                       timeout=4 * SLOW.get(script.stem, 30) + 60)
    assert result.code == 0, f"{script.name} failed:\n{result.stderr}\n--- stdout ---\n{result.stdout[-3000:]}"
    assert result.stderr == "", result.stderr

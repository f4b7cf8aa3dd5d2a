"""mypy passes on the whole tree (pyproject.toml: strict on queries/, geo/ and the core modules)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
# A cold run (no cache) reads pandas', numpy's and SQLAlchemy's stubs: two to four minutes of a core on the
# 2-core machine, for every fresh clone and worktree. One cache outside the clone serves all of them:
# mypy checks each cached module against its file's hash and rechecks what differs (the way its docs use
# a cache made on another commit), so a clone's run only checks what it changed. MYPY_CACHE_DIR wins.
SHARED_CACHE = Path(tempfile.gettempdir()) / "cityops-mypy-cache"


@pytest.mark.timeout(600)  # a cold cache, or another clone's run holding the lock first
def test_mypy_passes():
    cache = Path(os.environ.get("MYPY_CACHE_DIR", SHARED_CACHE))
    cache.parent.mkdir(parents=True, exist_ok=True)
    # No arguments: pyproject.toml's `files` (the whole tree) with its excludes, as a reviewer runs it.
    # One run at a time per cache: two clones' runs would overwrite each other's entries half-way.
    with FileLock(f"{cache}.lock"):
        done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,  # noqa: S603
                              text=True, timeout=500, check=False, env={**os.environ, "MYPY_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]

"""The engine loads SpatiaLite by itself: no settings call and no exported variable needed first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter: this test process has already run get_settings() (tests/conftest.py).
FIRST_CONNECTION = """
import sys
from queries.engine import make_engine

with make_engine(sys.argv[1], create=True).connect() as conn:
    print(conn.exec_driver_sql("SELECT spatialite_version()").scalar())
"""


def test_make_engine_loads_spatialite_without_settings_first(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SPATIALITE_LIBRARY_PATH"}
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    done = subprocess.run([sys.executable, "-c", FIRST_CONNECTION, url], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()[:1].isdigit(), done.stdout  # e.g. "5.1.0"

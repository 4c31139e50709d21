"""The WSGI entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_starting_made_out_of_the_garbage_collectors_reach(tmp_path):
    env = {"CASEWORK_DATABASE_URL": f"sqlite:///{tmp_path / 'casework.db'}", "CASEWORK_INSTANCE_PATH": str(tmp_path),
           "CASEWORK_KEYRING_FILE": str(tmp_path / "keyring.json"), "CASEWORK_SECRET_KEY": "test",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())"], check=False, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000  # the app's modules and objects, not a handful

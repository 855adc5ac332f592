"""The app over fuzzed runs directories, in a child process (``app_fuzz_child.py``): PySide6
segfaults when a model override raises, so a crash fails this test instead of ending the run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.parametrize("test", [
    "test_the_window_lists_every_run_of_a_fuzzed_directory_and_survives_every_cell",
    "test_models_never_raise_whatever_they_hold",
])
def test_app_fuzz_in_a_child_process(test, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t"),
         f"{HERE / 'app_fuzz_child.py'}::{test}"],
        cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=600)
    report = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, f"the child exited with {proc.returncode} (negative: killed by a signal)\n{report}"
    assert " passed" in proc.stdout, report

"""The app over fuzzed runs directories, in a child process (``app_fuzz_child.py``): PySide6
segfaults when a model override raises, so a crash fails this test instead of ending the run.
And the window over one wrong-typed field, in process (the check keeps it out of the models)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app_fixtures import *  # noqa: F403 (QSettings of each test in its tmp_path)

HERE = Path(__file__).parent


@pytest.mark.parametrize("child, test", [
    ("app_fuzz_child.py", "test_the_window_lists_every_run_of_a_fuzzed_directory_and_survives_every_cell"),
    ("app_fuzz_child.py", "test_models_never_raise_whatever_they_hold"),
    ("app_fuzz_child_compare_registry.py", "test_odd_values_the_library_can_hold_never_need_the_safety_net"),
    ("app_fuzz_child_compare_registry.py", "test_compare_and_registry_models_never_crash_whatever_they_hold"),
])
def test_app_fuzz_in_a_child_process(child, test, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t"),
         f"{HERE / child}::{test}"],
        cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=600)
    lines = (proc.stdout + proc.stderr).splitlines()
    report = "\n".join(line for line in lines if "propagateSizeHints" not in line)[-8000:]  # offscreen noise
    assert proc.returncode == 0, f"the child exited with {proc.returncode} (negative: killed by a signal)\n{report}"
    assert " passed" in proc.stdout, report


@pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise|requestActivate)")
@pytest.mark.parametrize("field, value", [("experiment", 42), ("run_name", ["x"]), ("status", None)])
def test_one_wrong_typed_field_hides_no_run_in_the_window(qtbot, runs_root, field, value):
    """Was: "experiment": 42 made the window list nothing at all."""
    import json

    from app_fixtures import log_run, open_window
    from app.runs.model import TOOLTIP
    ids = [log_run(f"run-{n}", "exp") for n in range(3)]
    path = runs_root / ids[1] / "run.json"
    doc = json.loads(path.read_text())
    doc["info"][field] = value
    path.write_text(json.dumps(doc))
    window = open_window(qtbot, runs_root, 3)
    model = window.runs_model
    assert model.rowCount() == 3
    assert [type(model.get(i)).__name__ for i in ids] == ["Run", "UnreadableRun", "Run"]
    tip = model.index(model.row_of(ids[1]), model.column_index("status")).data(TOOLTIP)
    assert f"info.{field} must be" in tip
    assert window.experiments.experiments_model.names() == ["exp"]

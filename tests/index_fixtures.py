"""Shared by the run index's tests (test_index.py, test_index_prefetch.py): runs written with
RunWriter into the test's tracking directory, and the index's cache kept under tmp_path."""
from __future__ import annotations

import pytest

from tracker.entities import RunStatus
from tracker.writer import RunWriter


def make_run(root, name="run", experiment="Default", params=None, metrics=None, status=RunStatus.FINISHED):
    """A run with ``params`` and ``metrics`` ({key: [values]}), ended with ``status`` (None: left RUNNING)."""
    writer = RunWriter.create(root, name, experiment)
    if params:
        writer.log_params(params)
    for key, values in (metrics or {}).items():
        for v in values:
            writer.log_metric(key, v)
    writer.flush()
    if status is not None:
        writer.end(status)
    return writer


def by_id(runs):
    return {r.info.run_id: r for r in runs}


@pytest.fixture
def root(tracking_dir):
    tracking_dir.mkdir(parents=True, exist_ok=True)
    return tracking_dir


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"

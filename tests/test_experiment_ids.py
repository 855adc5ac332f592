"""Experiment ids: created once under a race, kept for run folders and experiment files that
predate them, and checked in run.json like every other field."""
import json
import subprocess
import sys

import pytest

import tracker
from tracker.store import experiments, layout
from tracker.store.rundoc import RunDocumentError, check_document

_CREATE = """
import sys, tracker
tracker.set_tracking_dir(sys.argv[1])
sys.stdin.readline()  # every process starts creating at once
print(tracker.set_experiment("raced").experiment_id)
"""


def test_sixteen_processes_creating_one_experiment_agree_on_its_id(tmp_path):
    root = tmp_path / "runs"
    procs = [subprocess.Popen([sys.executable, "-c", _CREATE, str(root)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(16)]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    ids = {out.strip() for out, _ in results}
    assert len(ids) == 1 and ids.pop().isdigit()
    docs = list((root / layout.EXPERIMENTS_DIR).iterdir())
    assert [p.suffix for p in docs] == [".json"]  # one document, no temp file left behind


def _legacy_run(root, run_id, experiment):
    """A run folder as the library wrote it before experiments had ids."""
    folder = root / run_id
    (folder / "artifacts").mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({
        "format_version": 1,
        "info": {"run_id": run_id, "run_name": "old", "experiment": experiment, "status": "FINISHED",
                 "start_time": 1_700_000_000_000, "end_time": 1_700_000_001_000},
        "params": {}, "tags": {},
        "metrics": {"acc": {"last": 0.5, "min": 0.5, "max": 0.9, "count": 2, "last_step": 1,
                            "last_timestamp": 1_700_000_000_500}},
    }))


def test_old_run_folders_and_experiment_files_map_through_their_names(tracking_dir):
    root = tracking_dir
    (root / layout.EXPERIMENTS_DIR).mkdir(parents=True)
    (root / layout.EXPERIMENTS_DIR / layout.experiment_file_name("legacy")).write_text(
        json.dumps({"name": "legacy", "creation_time": 5}))
    _legacy_run(root, "a" * 32, "legacy")
    _legacy_run(root, "b" * 32, "Default")
    _legacy_run(root, "c" * 32, "runs-only")  # an experiment no file records
    client = tracker.MlflowClient()
    legacy = client.get_experiment_by_name("legacy")
    assert legacy.experiment_id == experiments.legacy_experiment_id("legacy") and legacy.creation_time == 5
    assert client.get_run("a" * 32).info.experiment_id == legacy.experiment_id
    assert client.get_run("b" * 32).info.experiment_id == "0"
    runs_only = client.get_experiment_by_name("runs-only")
    assert client.get_run("c" * 32).info.experiment_id == runs_only.experiment_id
    assert [r.info.run_id for r in client.search_runs([legacy.experiment_id])] == ["a" * 32]
    assert [r.info.run_id for r in client.search_runs([runs_only.experiment_id])] == ["c" * 32]
    # a new run in the old experiment gets the same id, and the file is not rewritten
    assert tracker.set_experiment("legacy").experiment_id == legacy.experiment_id
    with tracker.start_run() as run:
        pass
    assert client.get_run(run.info.run_id).info.experiment_id == legacy.experiment_id
    # a summary without the highest-step pair reads its last value
    assert client.get_run("a" * 32).data.metrics == {"acc": 0.5}


def test_runs_record_their_experiment_id_in_run_json():
    exp = tracker.set_experiment("recorded")
    with tracker.start_run() as run:
        tracker.log_metric("m", 1.0, step=7)
    doc = json.loads((tracker.get_tracking_dir() / run.info.run_id / "run.json").read_text())
    assert doc["info"]["experiment_id"] == exp.experiment_id and doc["info"]["experiment"] == "recorded"
    assert doc["metrics"]["m"]["max_step"] == 7 and doc["metrics"]["m"]["value_at_max_step"] == 1.0


def _doc(**info):
    return {"format_version": 1, "info": {"run_id": "d" * 32, **info}, "params": {}, "tags": {},
            "metrics": {}}


@pytest.mark.parametrize("summary_extra, message", [
    ({"max_step": 3}, "value_at_max_step must be a number"),
    ({"value_at_max_step": 1.0}, "max_step must be an integer"),
    ({"max_step": "3", "value_at_max_step": 1.0}, "max_step must be an integer"),
    ({"max_step": 3, "value_at_max_step": "x"}, "value_at_max_step must be a number"),
])
def test_check_document_checks_the_new_fields(summary_extra, message):
    with pytest.raises(RunDocumentError, match="info.experiment_id must be text"):
        check_document(_doc(experiment_id=5))
    doc = _doc()
    doc["metrics"]["m"] = {"last": 1.0, "min": 1.0, "max": 1.0, "count": 1, "last_step": 0, "last_timestamp": 0,
                           **summary_extra}
    with pytest.raises(RunDocumentError, match=message):
        check_document(doc)
    good = _doc(experiment_id="42")
    good["metrics"]["m"] = {"last": 1.0, "min": 1.0, "max": 1.0, "count": 1, "last_step": 0, "last_timestamp": 0,
                            "max_step": 0, "value_at_max_step": 2}
    assert check_document(good)["metrics"]["m"]["value_at_max_step"] == 2.0  # a whole number reads as a float

"""The MLflow store reader against real stores made by MLflow: everything MLflow's own client
reads back (runs, params, tags, every metric point, artifacts, registered versions) must read
back the same through ``tracker.mlflow_store``, which never imports MLflow."""
from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_mlflow_store_maker import GIT_COMMIT, session_store
from tracker.entities import Run
from tracker.mlflow_store import MlflowStoreError, detect, open_store

KINDS = ["file", "sqlite"]


@pytest.fixture(params=KINDS)
def made(request, tmp_path_factory):
    """(kind, store path, what MLflow's client read back)."""
    path, expected = session_store(request.param, tmp_path_factory)
    return request.param, path, expected


def active_runs(expected: dict) -> list[dict]:
    deleted_exps = {e["id"] for e in expected["experiments"] if e["lifecycle_stage"] == "deleted"}
    return [r for r in expected["runs"] if r["lifecycle_stage"] == "active" and r["experiment_id"] not in deleted_exps]


def same_float(a: float | None, b: float) -> bool:
    return (a is None and math.isnan(b)) or a == b


def test_detect_tells_the_two_kinds_from_anything_else(made, tmp_path):
    kind, path, _ = made
    assert detect(path) == kind
    assert detect(str(path)) == kind
    if kind == "sqlite":
        assert detect(f"sqlite:///{path}") == "sqlite"
    (tmp_path / "notes.db").write_text("not a database")
    (tmp_path / "runs").mkdir()
    assert detect(tmp_path / "notes.db") is None
    assert detect(tmp_path / "runs") is None
    assert detect(tmp_path / "missing") is None
    with pytest.raises(MlflowStoreError):
        open_store(tmp_path / "runs")


def test_every_run_reads_back_as_mlflow_reads_it(made):
    kind, path, expected = made
    reader = open_store(path)
    runs, bad = reader.scan()
    assert bad == []
    by_id = {r.info.run_id: r for r in runs}
    wanted = active_runs(expected)
    assert set(by_id) == {r["run_id"] for r in wanted}  # the deleted run and the deleted experiment's run are hidden
    exp_names = {e["id"]: e["name"] for e in expected["experiments"]}
    for want in wanted:
        run = by_id[want["run_id"]]
        assert run.info.run_name == want["run_name"]
        assert run.info.experiment == exp_names[want["experiment_id"]]
        assert run.info.status == want["status"]
        assert (run.info.start_time, run.info.end_time) == (want["start_time"], want["end_time"])
        assert run.info.user == want["tags"].get("mlflow.user", want["user_id"])
        assert run.data.params == want["params"]
        mlflow_tags = {k: v for k, v in run.data.tags.items() if not k.startswith("tracker.")}
        assert mlflow_tags == want["tags"]
        assert run.data.metrics.keys() == want["metrics"].keys()
        for key, value in want["metrics"].items():
            assert same_float(value, run.data.metrics[key]), (key, value, run.data.metrics[key])
        assert run.info.parent_run_id == want["tags"].get("mlflow.parentRunId")
        assert run.info.description == want["tags"].get("mlflow.note.content", "")
    parent = next(r for r in runs if r.info.run_name == "parent")
    assert parent.info.description == "first try\nwith a second line"
    assert parent.data.tags["tracker.source.git.commit"] == GIT_COMMIT  # what lineage and `tracker show` read
    assert {r.info.parent_run_id for r in runs if r.info.run_name.startswith("child")} == {parent.info.run_id}
    assert next(r for r in runs if r.info.run_name == "crashed").info.status == "FAILED"


def test_deleted_runs_are_there_when_asked_for(made):
    _, path, expected = made
    reader = open_store(path)
    everything, _ = reader.scan(include_deleted=True)
    assert {r.info.run_id for r in everything} == {r["run_id"] for r in expected["runs"]}
    deleted = next(r for r in expected["runs"] if r["run_name"] == "deleted-run")
    assert reader.is_deleted(deleted["run_id"])
    assert reader.get_run(deleted["run_id"]).data.metrics == {"loss": 9.0}


def test_every_metric_point_reads_back_in_the_order_it_was_logged(made):
    _, path, expected = made
    reader = open_store(path)
    runs = {r.info.run_id: r for r in reader.scan()[0]}
    checked = 0
    for want in active_runs(expected):
        run = runs[want["run_id"]]
        for key, points in want["histories"].items():
            history = reader.get_metric_history(want["run_id"], key)
            ours = [[m.step, m.timestamp, None if math.isnan(m.value) else m.value] for m in history]
            assert sorted(ours, key=repr) == sorted(points, key=repr)  # the same points as MLflow's client
            logged = expected["logged"][want["run_name"]][key]
            assert [[p[0], p[2]] for p in ours] == [[s, None if math.isnan(v) else v] for s, v in logged]
            summary = run.data.summaries[key]
            finite = [v for _, v in logged if not math.isnan(v)]
            assert (summary.min, summary.max, summary.count) == (min(finite), max(finite), len(logged))
            assert same_float(want["metrics"][key], summary.last)  # the value at the highest step
            checked += len(points)
        # listing reads every run's summaries at once; one run alone must read the same (repr: NaN == NaN)
        assert repr(reader.get_run(want["run_id"]).data.summaries) == repr(run.data.summaries)
    assert checked == 18  # 7 + 3 + 1 (parent), 3 + 3 (children), 1 (crashed)
    parent = next(r for r in runs.values() if r.info.run_name == "parent")
    assert parent.data.summaries["loss"].last_step == 5  # step 5 was logged before steps 3 and 4


def test_artifacts_are_where_the_reader_says_with_their_content(made):
    kind, path, expected = made
    reader = open_store(path)
    for want in active_runs(expected):
        folder = reader.artifact_dir(want["run_id"])
        found = {}
        if folder is not None and folder.is_dir():
            found = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
        assert found == want["artifacts"]
        run = reader.get_run(want["run_id"])
        if folder is not None:
            assert run.info.artifact_uri == folder.resolve().as_uri()
            assert Path(run.path) / "artifacts" == folder  # the app finds artifacts at run.path/artifacts
    parent = next(r for r in active_runs(expected) if r["run_name"] == "parent")
    folder = reader.artifact_dir(parent["run_id"])
    assert (folder / "plots" / "deep" / "b.bin").read_bytes() == bytes(range(256))
    assert (folder / "notes" / "readme.txt").read_text() == "hello"


def test_registered_models_and_versions_read_back_with_stages_and_aliases(made):
    kind, path, expected = made
    reader = open_store(path)
    versions = reader.model_versions()
    assert {(v.name, v.version) for v in versions} == {(v["name"], v["version"]) for v in expected["versions"]}
    assert ("classifier", 3) not in {(v.name, v.version) for v in versions}  # deleted in MLflow
    aliases = {m["name"]: {a: int(n) for a, n in m["aliases"].items()} for m in expected["models"]}
    for want in expected["versions"]:
        got = next(v for v in versions if (v.name, v.version) == (want["name"], want["version"]))
        assert got.current_stage == want["current_stage"]
        assert got.run_id == want["run_id"]
        assert got.source == want["source"]
        assert got.tags == want["tags"]
        assert got.description == (want["description"] or "")
        assert got.aliases == sorted(a for a, n in aliases[want["name"]].items() if n == want["version"])
        assert (Path(got.storage_path) / "MLmodel").is_file()  # the version's files are found locally
    models = {m.name: m for m in reader.registered_models()}
    assert models.keys() == {m["name"] for m in expected["models"]}
    classifier = models["classifier"]
    assert (classifier.description, classifier.tags) == ("the classifier", {"owner": "ml"})
    assert classifier.aliases == {"champion": 2, "challenger": 4}
    assert classifier.stage_versions == {"Staging": [4], "Production": [2], "Archived": [1]}
    assert classifier.latest_version == 4 and classifier.version_count == 3
    assert [v.version for v in reader.model_versions("classifier", include_deleted=True)] == [4, 3, 2, 1]
    if kind == "file":  # registered by log_model: an MLflow 3 logged model outside the run's artifacts
        regressor = reader.model_versions("regressor")[0]
        assert regressor.source.startswith("models:/m-")
        assert regressor.experiment == "vision"


def test_experiments_with_ids_tags_and_run_counts(made):
    _, path, expected = made
    reader = open_store(path)
    active = [e for e in expected["experiments"] if e["lifecycle_stage"] == "active"]
    assert {(e.experiment_id, e.name) for e in reader.read_experiments()} == {(e["id"], e["name"]) for e in active}
    assert "abandoned" in {e.name for e in reader.read_experiments(include_deleted=True)}
    counts = {e.name: e.run_count for e in reader.search_experiments()}
    assert counts["vision"] == len(active_runs(expected)) and counts["Default"] == 0
    assert next(e for e in reader.search_experiments() if e.name == "vision").tags == {"team": "cv"}


def _tree_state(path: Path) -> dict:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*"))
    return {str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None)
            for p in files}


def test_reading_changes_nothing_in_the_store(made):
    kind, path, _ = made
    before = _tree_state(path if kind == "file" else path.parent)
    reader = open_store(path)
    runs, _ = reader.scan(include_deleted=True)
    for run in runs:
        for key in run.data.summaries:
            reader.metric_series(run.info.run_id, key)
    reader.registered_models()
    reader.read_experiments(include_deleted=True)
    assert _tree_state(path if kind == "file" else path.parent) == before


def test_the_reader_needs_neither_mlflow_nor_pyyaml(made):
    _, path, expected = made
    code = ("import sys; sys.modules['mlflow'] = None; sys.modules['yaml'] = None\n"
            "from tracker.mlflow_store import open_store\n"
            f"r = open_store({str(path)!r}); runs, bad = r.scan()\n"
            "print(len(runs), len(bad), len(r.model_versions()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(active_runs(expected))), "0", str(len(expected["versions"]))]


def test_get_run_of_an_unknown_id_says_so(made):
    _, path, _ = made
    reader = open_store(path)
    for run_id in ("0" * 32, "../../etc", ""):
        with pytest.raises(LookupError):
            reader.get_run(run_id)


def test_a_metric_key_cannot_reach_outside_the_run(tmp_path_factory):
    path, expected = session_store("file", tmp_path_factory)  # in a database keys are SQL parameters
    reader = open_store(path)
    run_id = active_runs(expected)[0]["run_id"]
    for key in ("../meta.yaml", "/etc/passwd", "a/../../meta.yaml"):
        with pytest.raises(ValueError):
            reader.metric_series(run_id, key)


def test_scan_returns_tracker_runs(made):
    _, path, _ = made
    runs, _ = open_store(path).scan()
    assert all(isinstance(r, Run) for r in runs)
    json.dumps([r.info.__dict__ for r in runs])  # plain values only, as the app and CLI expect
    assert all(os.path.isabs(r.path) or r.path == "" for r in runs)


def test_runs_survive_pickling_with_their_summaries(made):
    _, path, expected = made  # runs may be handed to another process
    import pickle
    runs, _ = open_store(path).scan()
    copies = pickle.loads(pickle.dumps(runs))
    assert [r.data.summaries for r in copies] == [r.data.summaries for r in runs]
    parent = next(r for r in copies if r.info.run_name == "parent")
    assert parent.data.summaries["loss"].count == 7 and parent.data.summaries["train/acc"].min == 0.5


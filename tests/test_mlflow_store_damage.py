"""Damaged MLflow stores: a damaged run is listed as unreadable with its reason and never hides
the others; what MLflow appends while a store is open is read from where the last read ended."""
from __future__ import annotations

import math
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from test_mlflow_store_maker import session_store
from tracker.mlflow_store import MlflowStoreError, detect, open_store
from tracker.mlflow_store.metayaml import parse_meta


def _ids(expected: dict) -> dict[str, str]:
    return {r["run_name"]: r["run_id"] for r in expected["runs"]}


def _scan_with_deadline(reader, seconds: float = 60.0):
    """scan() in a thread: a reader that blocked on a FIFO would fail the test instead of hanging it."""
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("result", reader.scan()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert "result" in out, "scan() did not return: it blocked on something in the store"
    return out["result"]


@pytest.fixture
def file_copy(tmp_path, tmp_path_factory):
    path, expected = session_store("file", tmp_path_factory)
    copy = tmp_path / "mlruns"
    shutil.copytree(path, copy, symlinks=True)
    return copy, expected


@pytest.fixture
def sqlite_copy(tmp_path, tmp_path_factory):
    path, expected = session_store("sqlite", tmp_path_factory)
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(path, copy)
    return copy, expected


def _run_dir(root, run_id):
    return next(p for p in root.glob(f"*/{run_id}") if p.is_dir())


def test_damaged_file_store_runs_are_listed_with_reasons_and_hide_nothing(file_copy):
    root, expected = file_copy
    ids = _ids(expected)
    (_run_dir(root, ids["child-0"]) / "meta.yaml").write_text("run_id: [unclosed\nstatus: 'x\n")
    with open(_run_dir(root, ids["child-1"]) / "metrics" / "val_loss", "ab") as f:
        f.write(b"not a metric line\n")
    (_run_dir(root, ids["crashed"]) / "params" / "bad").write_bytes(b"\xff\xfe not utf-8")
    parent = _run_dir(root, ids["parent"])
    os.mkfifo(parent / "tags" / "a-fifo")  # opening it would block forever
    os.symlink("/etc/hostname", parent / "tags" / "a-link")  # a link could point anywhere
    runs, bad = _scan_with_deadline(open_store(root))
    reasons = {u.run_id: u.reason for u in bad}
    assert set(reasons) == {ids["child-0"], ids["child-1"], ids["crashed"]}
    assert "meta.yaml" in reasons[ids["child-0"]]
    assert "val_loss" in reasons[ids["child-1"]] and "damaged line" in reasons[ids["child-1"]]
    assert "UTF-8" in reasons[ids["crashed"]]
    names = {r.info.run_name for r in runs}
    assert names == {"parent", "sklearn"}
    tags = next(r for r in runs if r.info.run_name == "parent").data.tags
    assert "a-fifo" not in tags and "a-link" not in tags


def test_a_run_directory_without_meta_yaml_and_a_damaged_experiment(file_copy):
    root, expected = file_copy
    ids = _ids(expected)
    exp_dir = _run_dir(root, ids["parent"]).parent
    (exp_dir / ("f" * 32)).mkdir()  # a run MLflow began to create
    (exp_dir / "meta.yaml").write_text("name: 'unclosed\n")
    runs, bad = open_store(root).scan()
    assert [u.run_id for u in bad] == ["f" * 32] and "meta.yaml is missing" in bad[0].reason
    experiment_id = exp_dir.name
    assert {r.info.experiment for r in runs} == {f"experiment {experiment_id}"}  # still listed, under its id
    assert len(runs) == 5


def test_file_store_metric_tail_resumes_after_a_half_written_line(file_copy):
    root, expected = file_copy
    run_id = _ids(expected)["parent"]
    reader = open_store(root)
    first = reader.metric_series(run_id, "loss")
    assert len(first) == 7
    metric = _run_dir(root, run_id) / "metrics" / "loss"
    with open(metric, "ab") as f:
        f.write(b"1796000000000 0.125 6\n1796000000001 0.1")  # MLflow is writing the second line
    tail = reader.metric_series(run_id, "loss", first.position)
    assert tail.steps.tolist() == [6] and tail.values.tolist() == [0.125]
    with open(metric, "ab") as f:
        f.write(b"25 7\n")
    rest = reader.metric_series(run_id, "loss", tail.position)
    assert rest.steps.tolist() == [7] and rest.values.tolist() == [0.125]
    assert rest.timestamps.tolist() == [1796000000001]
    assert reader.metric_series(run_id, "loss", rest.position).values.tolist() == []
    run = reader.get_run(run_id)
    assert run.data.summaries["loss"].count == 9 and run.data.metrics["loss"] == 0.125  # step 7 is now the highest


def test_listing_again_sees_every_metric_file_that_changed(file_copy):
    root, expected = file_copy
    ids = _ids(expected)
    reader = open_store(root)
    first = {r.info.run_id: r for r in reader.scan()[0]}
    assert first[ids["parent"]].data.summaries["loss"].count == 7
    parent_metrics = _run_dir(root, ids["parent"]) / "metrics"
    with open(parent_metrics / "loss", "ab") as f:
        f.write(b"1796000000000 -3.0 99\n")  # MLflow appends a point
    child = _run_dir(root, ids["child-0"]) / "metrics" / "val_loss"
    size = child.stat().st_size
    replacement = child.with_name("new")
    replacement.write_bytes(b"1796000000000 7.5 1\n".ljust(size - 1, b" ").replace(b"\n", b" ") + b"\n")
    os.replace(replacement, child)  # rewritten whole, the same size: another file in its place
    (_run_dir(root, ids["crashed"]) / "metrics" / "loss").write_bytes(b"not a metric line\n")
    again = {r.info.run_id: r for r in reader.scan()[0]} | {u.run_id: u for u in reader.scan()[1]}
    loss = again[ids["parent"]].data.summaries["loss"]
    assert (loss.count, loss.min, loss.last, loss.last_step) == (8, -3.0, -3.0, 99)
    assert again[ids["parent"]].data.metrics["loss"] == -3.0
    assert again[ids["child-0"]].data.summaries["val_loss"].count == 1
    assert again[ids["child-0"]].data.metrics["val_loss"] == 7.5
    assert "damaged line" in again[ids["crashed"]].reason
    assert again[ids["child-1"]].data.summaries == first[ids["child-1"]].data.summaries  # unchanged


def test_damaged_sqlite_rows_are_listed_with_reasons_and_hide_nothing(sqlite_copy):
    db, expected = sqlite_copy
    ids = _ids(expected)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA ignore_check_constraints = 1")
    conn.execute("UPDATE latest_metrics SET value = 'garbage' WHERE run_uuid = ?", (ids["child-0"],))
    conn.execute("UPDATE runs SET status = 'EXPLODED' WHERE run_uuid = ?", (ids["child-1"],))
    conn.execute("UPDATE runs SET experiment_id = 999 WHERE run_uuid = ?", (ids["crashed"],))
    conn.execute("UPDATE tags SET value = CAST(x'41ff42' AS TEXT) WHERE run_uuid = ? AND key = 'stage'",
                 (ids["parent"],))
    conn.commit()
    conn.close()
    runs, bad = open_store(db).scan()
    reasons = {u.run_id: u.reason for u in bad}
    assert set(reasons) == {ids["child-0"], ids["child-1"], ids["crashed"]}
    assert "val_loss" in reasons[ids["child-0"]]
    assert "EXPLODED" in reasons[ids["child-1"]]
    assert "experiment" in reasons[ids["crashed"]]
    assert [r.info.run_name for r in runs] == ["parent"]
    assert runs[0].data.tags["stage"] == "A\ufffdB"  # text that is not UTF-8 is shown, not fatal


def test_a_file_that_is_not_a_database_is_no_store(sqlite_copy, tmp_path):
    db, _ = sqlite_copy
    torn = tmp_path / "torn.db"
    torn.write_bytes(db.read_bytes()[:200])
    assert detect(torn) is None
    with pytest.raises(MlflowStoreError):
        open_store(torn)


def test_sqlite_metric_tail_and_change_token_follow_new_rows(sqlite_copy):
    db, expected = sqlite_copy
    run_id = _ids(expected)["parent"]
    reader = open_store(db)
    first = reader.metric_series(run_id, "loss")
    token = reader.changed_token()
    assert len(first) == 7
    conn = sqlite3.connect(db)  # what MLflow does when a script logs the next point
    conn.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES "
                 "('loss', 0.0, 1796000000000, ?, 6, 1)", (run_id,))
    conn.commit()
    conn.close()
    assert reader.changed_token() != token
    tail = reader.metric_series(run_id, "loss", first.position)
    assert tail.steps.tolist() == [6] and math.isnan(tail.values[0])
    assert len(reader.metric_series(run_id, "loss", tail.position)) == 0


def test_meta_yaml_subset_reads_what_pyyaml_writes():
    yaml = pytest.importorskip("yaml")
    from hypothesis import given, settings, strategies as st
    text = st.text(st.characters(blacklist_characters="\x85\u2028\u2029\ufeff"), max_size=120)
    values = st.one_of(st.none(), st.integers(-2**63, 2**63), st.booleans(), st.floats(allow_nan=False), text)
    keys = st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True)
    nested = st.dictionaries(st.from_regex(r"[\w-]{1,20}", fullmatch=True), text, min_size=1, max_size=3)

    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(keys, st.one_of(values, nested)))
    def check(doc):
        dumped = yaml.safe_dump(doc, default_flow_style=False, allow_unicode=True)
        if yaml.safe_load(dumped) != doc:
            return  # PyYAML itself does not read this back; MLflow could not either
        assert parse_meta(dumped) == doc

    check()


@pytest.mark.parametrize("text", ["a: [1, 2]\n", "a: |\n  block\n", "a: &x 1\n", "a: 'open\n", "- a\n", "a: 1\na: 2\n"])
def test_meta_yaml_outside_the_subset_is_an_error_not_a_guess(text):
    with pytest.raises(ValueError):
        parse_meta(text)


def test_a_copied_store_reads_its_own_artifacts_not_the_original_ones(file_copy):
    root, expected = file_copy  # meta.yaml files still name the original store's absolute paths
    reader = open_store(root)
    parent = _ids(expected)["parent"]
    assert root in reader.artifact_dir(parent).parents
    run = reader.get_run(parent)
    assert str(root) in run.path and run.info.artifact_uri.startswith(root.as_uri())
    for version in reader.model_versions():
        assert root in Path(version.storage_path).parents, version


def test_runs_of_another_workspace_are_not_listed_nor_called_damaged(sqlite_copy):
    db, expected = sqlite_copy
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, workspace) "
                 "VALUES (77, 'elsewhere', '/tmp/x', 'active', 'team-b')")
    conn.execute("UPDATE runs SET experiment_id = 77 WHERE run_uuid = ?", (_ids(expected)["crashed"],))
    conn.commit()
    conn.close()
    runs, bad = open_store(db).scan()
    assert bad == [] and _ids(expected)["crashed"] not in {r.info.run_id for r in runs}
    assert len(runs) == 3 and "elsewhere" not in {e.name for e in open_store(db).read_experiments()}


def test_file_store_change_token_moves_when_mlflow_adds_a_run(file_copy):
    root, expected = file_copy
    reader = open_store(root)
    token = reader.changed_token()
    assert reader.changed_token() == token
    source = _run_dir(root, _ids(expected)["crashed"])
    new_id = "e" * 32
    shutil.copytree(source, source.with_name(new_id))  # a run appearing the way MLflow makes one
    meta = (source.with_name(new_id) / "meta.yaml").read_text().replace(source.name, new_id)
    (source.with_name(new_id) / "meta.yaml").write_text(meta)
    assert reader.changed_token() != token
    assert new_id in {r.info.run_id for r in reader.scan()[0]}

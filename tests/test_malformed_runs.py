"""Malformed run documents: every run is listed, good ones as runs, bad ones as unreadable with a
reason, and neither the client nor `tracker ls` ever raises over them."""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import tracker
from tracker import cli, store
from tracker.entities import Run, UnreadableRun
from tracker.store import layout
from tracker.store.rundoc import check_document

from malformed_strategies import runs_dirs, same_number, write_runs

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _listing(root: Path, monkeypatch, index: bool) -> tuple[list[Run], list[UnreadableRun]]:
    with monkeypatch.context() as m:
        if index:
            m.delenv("TRACKER_NO_INDEX", raising=False)
        else:
            m.setenv("TRACKER_NO_INDEX", "1")
        client = tracker.Client(root)
        runs = client.search_runs()
        client.search_experiments()
        return runs, client.unreadable_runs()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(planned=runs_dirs())
def test_every_run_is_listed_good_ones_as_runs_bad_ones_as_unreadable(planned, monkeypatch, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        write_runs(root, planned)
        by_id = {p.run_id: p for p in planned}
        # read three ways: through a new index, from the index's rows, and without an index
        listings = [_listing(root, monkeypatch, index) for index in (True, True, False)]
        for runs, unreadable in listings:
            readable = {r.info.run_id: r for r in runs}
            bad = {u.run_id: u for u in unreadable}
            assert sorted([*readable, *bad]) == sorted(by_id)  # each run once, none hidden
            for run_id, plan in by_id.items():
                if plan.kind == "good":
                    run = readable[run_id]
                    assert (run.info.run_name, run.info.experiment) == (plan.name, plan.experiment)
                    assert run.data.params == plan.doc["params"] and run.data.tags == plan.doc["tags"]
                    assert run.data.metrics.keys() == plan.doc["metrics"].keys()
                    for key, summary in plan.doc["metrics"].items():
                        assert same_number(run.data.metrics[key], summary["last"])
                        assert isinstance(run.data.metrics[key], float)
                elif plan.kind == "bad":
                    assert run_id in bad, plan.why
                    assert bad[run_id].reason and bad[run_id].path == str(root / run_id)
        assert {r.info.run_id for r in listings[0][0]} == {r.info.run_id for r in listings[2][0]}

        capsys.readouterr()
        assert cli.main(["ls", "--dir", str(root)]) == 0
        out, err = capsys.readouterr()
        assert not _CONTROL.search(out.replace("\n", "")) and not _CONTROL.search(err.replace("\n", ""))
        for run_id, plan in by_id.items():
            if plan.kind == "bad":
                assert f"run {run_id} is unreadable" in err
            elif plan.kind == "good":
                assert run_id[:8] in out


def _write_doc(root: Path, doc: dict, folder: str | None = None) -> Path:
    path = root / (folder or doc["info"]["run_id"])
    path.mkdir(parents=True, exist_ok=True)
    (path / "run.json").write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def three(runs_root) -> list[str]:
    ids = []
    for n in range(3):
        with tracker.start_run(run_name=f"run-{n}", experiment="e") as run:
            tracker.log_metric("acc", 0.5 + n / 10)
            tracker.log_param("p", n)
        ids.append(run.info.run_id)
    return ids


@pytest.fixture
def runs_root(tracking_dir) -> Path:
    return Path(tracking_dir)


def _edit(root: Path, run_id: str, edit) -> None:
    path = root / run_id / "run.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("edit, reason", [
    (lambda d: d["info"].update(experiment=42), "info.experiment must be text, not int 42"),
    (lambda d: d["metrics"]["acc"].update(last="oops"), "metrics['acc'].last must be a number, not str 'oops'"),
    (lambda d: d["info"].update(run_name=123), "info.run_name must be text, not int 123"),
    (lambda d: d["params"].update(p=[1]), "params['p'] must be text, not list [1]"),
    (lambda d: d["info"].update(status="DONE"), "info.status must be one of"),
    (lambda d: d["info"].update(start_time=10 ** 30), "info.start_time"),
    (lambda d: d["info"].update(pid=2 ** 40), "info.pid"),
    (lambda d: d["metrics"]["acc"].pop("count"), "metrics['acc'] has no 'count'"),
    (lambda d: d["info"].update(user="x\ud800"), "not valid Unicode"),
])
def test_a_wrong_typed_field_makes_only_that_run_unreadable_with_a_reason(three, runs_root, capsys, edit, reason):
    _edit(runs_root, three[0], edit)
    client = tracker.Client(runs_root)
    assert sorted(r.info.run_id for r in client.search_runs()) == sorted(three[1:])
    [bad] = client.unreadable_runs()
    assert bad.run_id == three[0] and reason in bad.reason
    assert "e" in [e.name for e in client.search_experiments()]
    assert cli.main(["ls", "--dir", str(runs_root)]) == 0
    assert f"run {three[0]} is unreadable" in capsys.readouterr().err


def test_a_whole_number_metric_value_reads_as_a_float(three, runs_root):
    _edit(runs_root, three[0], lambda d: d["metrics"]["acc"].update(last=1, min=0, max=1, value_at_max_step=1))
    run = tracker.Client(runs_root).get_run(three[0])
    assert run.data.metrics == {"acc": 1.0} and type(run.data.metrics["acc"]) is float
    assert type(run.data.summaries["acc"].min) is float


def test_experiment_files_with_wrong_types_do_not_break_listing(three, runs_root):
    folder = runs_root / layout.EXPERIMENTS_DIR
    (folder / "bad-name.json").write_text(json.dumps({"name": 42, "creation_time": 1}))
    (folder / "bad-time.json").write_text(json.dumps({"name": "timeless", "creation_time": 1e400}))
    (folder / "list.json").write_text("[1, 2]")
    (folder / "torn.json").write_text('{"name": "to')
    names = [e.name for e in tracker.Client(runs_root).search_experiments()]
    assert "timeless" in names and "e" in names and "42" not in names


def test_check_document_names_the_field(three, runs_root):
    doc = json.loads((runs_root / three[0] / "run.json").read_text())
    doc["tags"]["team"] = {"a": 1}
    with pytest.raises(ValueError, match=r"tags\['team'\] must be text, not dict"):
        check_document(doc, three[0])
    doc["tags"]["team"] = "vision"
    assert check_document(doc, three[0]) is doc
    with pytest.raises(ValueError, match="belongs to run|copy of"):
        check_document(doc, "f" * 32)


def test_tracker_ls_escapes_control_characters_in_names(runs_root, capsys):
    with tracker.start_run(run_name="evil\x1b[2J\x1b[31mred\u202e", experiment="exp\x07"):
        tracker.log_metric("a\x1bb", 1.0)
    assert cli.main(["ls", "--dir", str(runs_root)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "evil\\x1b[2J\\x1b[31mred\\u202e" in out and "exp\\x07" in out and "a\\x1bb" in out


def test_a_file_given_as_the_runs_directory_is_an_error_not_a_traceback(tmp_path, capsys):
    not_a_dir = tmp_path / "runs"
    not_a_dir.write_text("x")
    assert cli.main(["ls", "--dir", str(not_a_dir)]) == 2
    assert "tracker: error:" in capsys.readouterr().err


def test_garbage_kept_out_of_the_index_is_reported_the_same_way(three, runs_root):
    """A run damaged after it was indexed reads unreadable through the index and without it."""
    tracker.Client(runs_root).search_runs()
    _edit(runs_root, three[1], lambda d: d["info"].update(experiment=["a"]))
    with_index = tracker.Client(runs_root).unreadable_runs()
    without = store.read_all_runs(runs_root)[1]
    assert [(u.run_id, u.reason) for u in with_index] == [(u.run_id, u.reason) for u in without]
    assert "info.experiment must be text" in with_index[0].reason
    shutil.rmtree(runs_root / three[1])
    assert tracker.Client(runs_root).unreadable_runs() == []

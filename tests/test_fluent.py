"""The fluent API, behaviour by behaviour."""
import json
import math
from pathlib import Path

import pytest

import tracker
from tracker import Client


def only_run():
    runs = Client().search_runs()
    assert len(runs) == 1
    return runs[0]


def test_tracking_dir_from_env_and_setter(tmp_path, monkeypatch):
    tracker.set_tracking_dir(None)
    monkeypatch.setenv("TRACKER_DIR", str(tmp_path / "from-env"))
    assert tracker.get_tracking_dir() == tmp_path / "from-env"
    monkeypatch.delenv("TRACKER_DIR")
    monkeypatch.chdir(tmp_path)
    assert tracker.get_tracking_dir() == tmp_path / "runs"
    tracker.set_tracking_dir(tmp_path / "explicit")
    assert tracker.get_tracking_dir() == tmp_path / "explicit"


def test_context_manager_finishes_and_records_info():
    with tracker.start_run(run_name="first", description="why") as run:
        assert tracker.active_run().info.run_id == run.info.run_id
        assert run.info.status == "RUNNING"
    assert tracker.active_run() is None
    stored = only_run()
    assert stored.info.run_name == "first"
    assert stored.info.status == "FINISHED"
    assert stored.info.experiment == "Default"
    assert stored.info.description == "why"
    assert stored.info.end_time >= stored.info.start_time
    assert stored.info.artifact_uri.startswith("file://") and stored.info.artifact_uri.endswith("/artifacts")


def test_exception_marks_run_failed_with_the_error():
    with pytest.raises(ZeroDivisionError):
        with tracker.start_run():
            1 / 0  # noqa: B018 - raises inside the run
    run = only_run()
    assert run.info.status == "FAILED"
    assert "ZeroDivisionError" in run.info.error


def test_end_run_with_status_and_last_active_run():
    run = tracker.start_run(run_name="x")
    tracker.end_run("KILLED")
    assert only_run().info.status == "KILLED"
    assert tracker.last_active_run().info.run_id == run.info.run_id
    with pytest.raises(ValueError, match="unknown run status"):
        tracker.start_run()
        tracker.end_run("DONE")


def test_second_start_run_needs_nested():
    with tracker.start_run() as parent:
        with pytest.raises(RuntimeError, match="nested=True"):
            tracker.start_run()
        with tracker.start_run(nested=True) as child:
            tracker.log_metric("inner", 1.0)
        assert tracker.active_run().info.run_id == parent.info.run_id
    runs = {r.info.run_id: r for r in Client().search_runs()}
    assert runs[child.info.run_id].info.parent_run_id == parent.info.run_id
    assert runs[parent.info.run_id].info.parent_run_id is None


def test_unnamed_runs_get_readable_names():
    names = set()
    for _ in range(3):
        with tracker.start_run() as run:
            names.add(run.info.run_name)
    for name in names:
        adjective, noun, number = name.split("-")
        assert adjective.isalpha() and noun.isalpha() and number.isdigit()


def test_resume_by_run_id_keeps_data_and_continues_steps():
    with tracker.start_run(run_name="resumable") as run:
        tracker.log_param("lr", 0.1)
        tracker.log_metric("loss", 1.0)
        tracker.log_metric("loss", 0.9)
    with tracker.start_run(run_id=run.info.run_id):
        tracker.log_metric("loss", 0.8)
        assert tracker.active_run().info.status == "RUNNING"
    history = Client().get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.9), (2, 0.8)]
    stored = only_run()
    assert stored.data.params == {"lr": "0.1"} and stored.info.status == "FINISHED"


def test_resume_unknown_run_raises():
    with pytest.raises(ValueError, match="not found"):
        tracker.start_run(run_id="0" * 32)


def test_set_experiment_creates_it_and_runs_go_there():
    tracker.set_experiment("empty-yet")
    tracker.set_experiment("resnet")
    with tracker.start_run():
        pass
    with tracker.start_run(experiment="other"):
        pass
    experiments = {e.name: e.run_count for e in Client().search_experiments()}
    assert experiments == {"empty-yet": 0, "resnet": 1, "other": 1}


def test_params_are_strings_and_immutable():
    with tracker.start_run():
        assert tracker.log_param("depth", 10) == 10
        tracker.log_param("depth", 10)  # same value again is fine
        tracker.log_params({"lr": 0.01, "opt": "adam", "none": None})
        with pytest.raises(ValueError, match="Changing param values is not allowed"):
            tracker.log_param("depth", 11)
        with pytest.raises(ValueError, match="Changing param values is not allowed"):
            tracker.log_params({"new": 1, "lr": 0.02})  # nothing of the batch is written
    assert only_run().data.params == {"depth": "10", "lr": "0.01", "opt": "adam", "none": "None"}


def test_metrics_auto_step_per_key_and_explicit_steps():
    with tracker.start_run() as run:
        for v in (3.0, 2.0, 1.0):
            tracker.log_metric("loss", v)
        tracker.log_metric("acc", 0.5, step=10)
        tracker.log_metric("acc", 0.6)
        tracker.log_metrics({"a": 1, "b": 2.5}, step=7)
        tracker.log_metric("t", 1.0, timestamp=1_700_000_000_123)
    client = Client()
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [0, 1, 2]
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "acc")] == [(10, 0.5), (11, 0.6)]
    assert client.get_metric_history(run.info.run_id, "b")[0].step == 7
    assert client.get_metric_history(run.info.run_id, "t")[0].timestamp == 1_700_000_000_123
    summary = only_run().data.summaries["loss"]
    assert (summary.last, summary.min, summary.max, summary.count, summary.last_step) == (1.0, 1.0, 3.0, 3, 2)


def test_metric_values_numpy_nan_and_inf_round_trip():
    np = pytest.importorskip("numpy")
    with tracker.start_run() as run:
        for v in (np.float32(0.5), np.int64(3), float("nan"), float("inf"), float("-inf"), True):
            tracker.log_metric("x", v)
    values = [m.value for m in Client().get_metric_history(run.info.run_id, "x")]
    assert values[:2] == [0.5, 3.0] and math.isnan(values[2]) and values[3:5] == [math.inf, -math.inf]
    summary = only_run().data.summaries["x"]
    assert summary.min == -math.inf and summary.max == math.inf and summary.last == 1.0


def test_keys_with_slashes_spaces_unicode_and_case_do_not_collide():
    keys = ["train/loss", "a b", "über/ñ", "Loss", "loss", "x" * 250, "x..y", "%2F", "a/b/c"]
    with tracker.start_run() as run:
        for i, key in enumerate(keys):
            tracker.log_metric(key, float(i))
    client = Client()
    for i, key in enumerate(keys):
        assert [m.value for m in client.get_metric_history(run.info.run_id, key)] == [float(i)]
    metric_files = list((Path(only_run().path) / "metrics").iterdir())
    assert len(metric_files) == len(keys)
    assert all(p.parent.name == "metrics" for p in metric_files)


@pytest.mark.parametrize("bad, error", [("", ValueError), ("k" * 251, ValueError), ("a\x00b", ValueError),
                                        (5, TypeError)])
def test_bad_keys_raise(bad, error):
    with tracker.start_run():
        with pytest.raises(error):
            tracker.log_metric(bad, 1.0)
        with pytest.raises(error):
            tracker.log_param(bad, 1)
        with pytest.raises(error):
            tracker.set_tag(bad, 1)


def test_non_numeric_metric_raises_type_error_naming_the_key():
    with tracker.start_run():
        for bad in ("0.5", None, [1.0], b"1"):
            with pytest.raises(TypeError, match="'accuracy'"):
                tracker.log_metric("accuracy", bad)
        with pytest.raises(TypeError, match="'b'"):
            tracker.log_metrics({"a": 1.0, "b": "x"})
    assert only_run().data.metrics == {}  # the batch with a bad value logged nothing


def test_long_param_value_raises():
    with tracker.start_run():
        tracker.log_param("ok", "v" * 6000)
        with pytest.raises(ValueError, match="6000"):
            tracker.log_param("long", "v" * 6001)


def test_tags_set_and_delete():
    with tracker.start_run(tags={"team": "a"}):
        tracker.set_tag("stage", "dev")
        tracker.set_tags({"x": 1, "y": "2"})
        tracker.delete_tag("x")
        with pytest.raises(KeyError):
            tracker.delete_tag("missing")
    tags = only_run().data.tags
    own = {k: v for k, v in tags.items() if not k.startswith(("tracker.", "mlflow."))}  # (not the system tags)
    assert own == {"team": "a", "stage": "dev", "y": "2"}


def test_context_tags_are_captured():
    with tracker.start_run():
        pass
    tags = only_run().data.tags
    for key in ("tracker.source.name", "tracker.python.version", "tracker.host", "tracker.user", "tracker.pid"):
        assert tags.get(key), key
    assert json.loads(tags["tracker.source.argv"])


def test_logging_without_a_run_starts_one():
    tracker.log_metric("loss", 1.0)
    assert tracker.active_run() is not None
    tracker.end_run()
    assert only_run().data.metrics == {"loss": 1.0}


def test_artifacts(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    with tracker.start_run() as run:
        tracker.log_artifact(src / "a.txt")
        tracker.log_artifact(src / "a.txt", "copies/one")
        tracker.log_artifacts(src, "tree")
        tracker.log_text("hello", "notes/readme.md")
        tracker.log_dict({"k": [1, 2]}, "config.json")
        tracker.log_dict({"k": 1}, "config.yaml")
        with pytest.raises(FileNotFoundError):
            tracker.log_artifact(tmp_path / "missing.txt")
        for escape in ("../x", "/abs/path", "a/../../x"):
            with pytest.raises(ValueError):
                tracker.log_artifact(src / "a.txt", escape)
            with pytest.raises(ValueError):
                tracker.log_text("x", escape)
        uri = tracker.get_artifact_uri("notes")
    art = Path(only_run().path) / "artifacts"
    assert (art / "a.txt").read_text() == "A"
    assert (art / "copies/one/a.txt").read_text() == "A"
    assert (art / "tree/sub/b.txt").read_text() == "B"
    assert (art / "notes/readme.md").read_text() == "hello"
    assert json.loads((art / "config.json").read_text()) == {"k": [1, 2]}
    assert "k" in (art / "config.yaml").read_text()
    assert uri == (art / "notes").resolve().as_uri()
    assert not list(art.rglob("*.part"))  # nothing half-written left behind
    assert tracker.get_artifact_uri() == run.info.artifact_uri  # after the run ended: the last run's


def test_get_artifact_uri_never_starts_a_run():
    with pytest.raises(RuntimeError, match="no run"):
        tracker.get_artifact_uri()
    assert Client().search_runs() == []


def test_log_figure():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with tracker.start_run():
        tracker.log_figure(fig, "plots/curve.png")
    assert (Path(only_run().path) / "artifacts/plots/curve.png").read_bytes()[:4] == b"\x89PNG"


def test_log_figure_rejects_non_figures():
    with tracker.start_run():
        with pytest.raises(TypeError, match="Figure"):
            tracker.log_figure(object(), "x.png")


def test_fluent_search_runs():
    for depth in (2, 10):
        with tracker.start_run():
            tracker.log_param("max_depth", depth)
            tracker.log_metric("accuracy", depth / 10)
    runs = tracker.search_runs(filter_string="metrics.accuracy > 0.9 and params.max_depth = '10'", output_format="list")
    assert [r.data.params["max_depth"] for r in runs] == ["10"]

"""What the public API refuses at the call, and what a failing flush does to a run."""
import errno
import json
import math
from pathlib import Path

import pytest

import tracker
from tracker import Client, store
from tracker.writer import FLUSHER, WriteError


def only_run():
    runs = Client().search_runs()
    assert len(runs) == 1
    return runs[0]


def raw_doc(run_id):
    return json.loads((tracker.get_tracking_dir() / run_id / "run.json").read_text())


@pytest.mark.parametrize("kwargs, error", [
    ({"run_name": 123}, TypeError),
    ({"run_name": "n" * 251}, ValueError),
    ({"experiment": 5}, TypeError),
    ({"experiment": ""}, ValueError),
    ({"description": ["why"]}, TypeError),
    ({"description": "d" * 8001}, ValueError),
    ({"tags": [("k", "v")]}, TypeError),
    ({"tags": {1: "v"}}, TypeError),
    ({"tags": {"k": object()}}, TypeError),
    ({"tags": {"k": "v" * 8001}}, ValueError),
    ({"nested": "yes"}, TypeError),
    ({"run_id": 7}, TypeError),
])
def test_start_run_refuses_bad_arguments_before_writing_anything(kwargs, error):
    with pytest.raises(error):
        tracker.start_run(**kwargs)
    assert tracker.active_run() is None
    assert Client().search_runs() == [] and Client().unreadable_runs() == []


def test_limits_are_inclusive_and_errors_name_them():
    with tracker.start_run(run_name="n" * 250, description="d" * 8000, tags={"big": "v" * 8000}):
        with pytest.raises(ValueError, match="8000"):
            tracker.set_tag("huge", "v" * 8001)
    run = only_run()
    assert len(run.info.run_name) == 250 and len(run.info.description) == 8000
    assert run.data.tags["big"] == "v" * 8000 and "huge" not in run.data.tags


@pytest.mark.parametrize("value", [b"bytes", bytearray(b"x"), object(), len, math, int, lambda: 1])
def test_values_without_a_text_form_are_type_errors_naming_the_key(value):
    with tracker.start_run():
        with pytest.raises(TypeError, match="'k'"):
            tracker.set_tag("k", value)
        with pytest.raises(TypeError, match="'p'"):
            tracker.log_param("p", value)
        with pytest.raises(TypeError, match="dict"):
            tracker.log_params([("p", 1)])
        with pytest.raises(TypeError, match="dict"):
            tracker.log_metrics([("m", 1.0)])
        with pytest.raises(TypeError, match="metric key must be a string"):
            tracker.log_metric(["m"], 1.0)
        with pytest.raises(ValueError, match="metric key must not be empty"):
            tracker.log_metrics({"fine": 1.0, "": 2.0})  # nothing of the batch is logged
    assert only_run().data.params == {} and only_run().data.metrics == {}


def test_a_bad_value_does_not_start_a_run():
    with pytest.raises(TypeError):
        tracker.log_param("p", object())
    with pytest.raises(TypeError):
        tracker.set_tag("t", b"x")
    assert tracker.active_run() is None and Client().search_runs() == []


def test_a_lone_surrogate_is_refused_at_the_call_and_blocks_nothing_else():
    undecodable = "caf\udce9.csv"  # what os.listdir returns for the Latin-1 name b"caf\xe9.csv"
    with tracker.start_run() as run:
        with pytest.raises(ValueError, match="'path'.*surrogate"):
            tracker.set_tag("path", undecodable)
        with pytest.raises(ValueError, match="surrogate"):
            tracker.log_param("file", undecodable)
        with pytest.raises(ValueError, match="surrogate"):
            tracker.log_metric(undecodable, 1.0)
        with pytest.raises(ValueError, match="surrogate"):
            tracker.set_tag(undecodable, "v")
        # everything after it is written as usual
        tracker.set_tag("after", "ok")
        tracker.log_param("lr", 0.1)
        tracker.log_metric("loss", 0.5)
    stored = only_run()
    assert stored.info.status == "FINISHED"
    assert stored.data.tags["after"] == "ok" and stored.data.params == {"lr": "0.1"}
    assert Client().metric_series(run.info.run_id, "loss").values.tolist() == [0.5]
    with pytest.raises(ValueError, match="surrogate"):
        tracker.start_run(run_name=undecodable)


@pytest.mark.parametrize("kwargs, error", [
    ({"step": 2**64}, ValueError), ({"step": 2**63}, ValueError), ({"step": -2**63 - 1}, ValueError),
    ({"step": 1.5}, TypeError), ({"step": "3"}, TypeError),
    ({"timestamp": 2**63}, ValueError), ({"timestamp": 1.7e12}, TypeError),
])
def test_out_of_range_steps_and_timestamps_are_refused_and_the_flusher_lives_on(kwargs, error):
    with tracker.start_run() as run:
        tracker.log_metric("m", 1.0, step=0)
        with pytest.raises(error):
            tracker.log_metric("m", 2.0, **kwargs)
        with pytest.raises(error):
            tracker.log_metrics({"m": 2.0}, **{k: v for k, v in kwargs.items() if k == "step"}) if "step" in kwargs \
                else tracker.log_metric("other", 2.0, **kwargs)
        FLUSHER.flush_all()
        assert FLUSHER._thread.is_alive()
        tracker.log_metric("m", 3.0, step=1)
        FLUSHER.flush_all()
        # saved by the background flusher, not only by end_run
        assert Client().metric_series(run.info.run_id, "m").values.tolist() == [1.0, 3.0]


def test_int64_extremes_round_trip_and_the_step_after_the_last_is_refused():
    with tracker.start_run() as run:
        tracker.log_metric("m", 1.0, step=-2**63, timestamp=-2**63)
        tracker.log_metric("m", 2.0, step=2**63 - 1, timestamp=2**63 - 1)
        with pytest.raises(ValueError, match="2\\*\\*63"):
            tracker.log_metric("m", 3.0)
    series = Client().metric_series(run.info.run_id, "m")
    assert series.steps.tolist() == [-2**63, 2**63 - 1]
    assert series.timestamps.tolist() == [-2**63, 2**63 - 1]


def fail_document_writes(monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(store.RunDocument, "write", no_space)


def test_a_failed_flush_is_raised_by_the_next_call_and_loses_nothing(monkeypatch):
    with tracker.start_run() as run:
        for i in range(10):
            tracker.log_metric("loss", float(i))
        FLUSHER.flush_all()
        fail_document_writes(monkeypatch)
        for i in range(10, 15):
            tracker.log_metric("loss", float(i))
        FLUSHER.flush_all()  # never raises: the flusher thread must survive anything
        # run.json could not take the new summary, so the file was cut back to match it
        assert len(Client().metric_series(run.info.run_id, "loss")) == 10
        assert raw_doc(run.info.run_id)["metrics"]["loss"]["count"] == 10
        with pytest.raises(tracker.WriteError, match=f"run {run.info.run_id}.*No space left"):
            tracker.log_metric("loss", 15.0)
        monkeypatch.undo()
        tracker.log_metric("loss", 15.0)  # the error was reported once; logging goes on
    series = Client().metric_series(run.info.run_id, "loss")
    assert series.values.tolist() == [float(i) for i in range(16)]  # each point exactly once
    assert series.steps.tolist() == list(range(16))
    assert only_run().data.summaries["loss"].count == 16


def test_end_run_reports_points_it_could_not_save_and_still_ends(monkeypatch):
    run = tracker.start_run()
    tracker.log_metric("loss", 1.0)
    FLUSHER.flush_all()
    tracker.log_metric("loss", 2.0)
    real_write = store.RunDocument.write
    calls = []

    def fail_once(*args, **kwargs):  # the final flush fails; writing the end status works
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(*args, **kwargs)
    monkeypatch.setattr(store.RunDocument, "write", fail_once)
    with pytest.raises(WriteError, match="1 metric points"):
        tracker.end_run()
    assert tracker.active_run() is None
    stored = only_run()
    assert stored.info.status == "FINISHED"
    assert stored.data.summaries["loss"].count == len(Client().metric_series(run.info.run_id, "loss")) == 1


def test_a_failed_param_write_leaves_the_run_usable(monkeypatch):
    with tracker.start_run():
        fail_document_writes(monkeypatch)
        with pytest.raises(OSError):
            tracker.log_param("a", 1)
        monkeypatch.undo()
        tracker.log_param("a", 2)  # the failed value was never taken as logged: no "immutable" error
    assert only_run().data.params == {"a": "2"}


def test_a_second_writer_in_one_process_is_refused():
    from tracker.writer import RunWriter
    with tracker.start_run() as run:
        with pytest.raises(tracker.RunLockedError, match=f"run {run.info.run_id} is being written"):
            RunWriter.resume(tracker.get_tracking_dir(), run.info.run_id)
    # ended: the lock is free again
    with tracker.start_run(run_id=run.info.run_id):
        tracker.set_tag("again", "yes")
    assert only_run().data.tags["again"] == "yes"


def test_lock_file_name_is_part_of_the_layout():
    with tracker.start_run() as run:
        pass
    assert (Path(only_run().path) / store.layout.WRITER_LOCK).is_file()
    assert run.info.status == "FINISHED"


def test_points_appended_by_several_flushes_are_taken_back_when_their_summary_cannot_be_written(monkeypatch):
    with tracker.start_run() as run:
        tracker.log_metric("loss", 0.0)
        FLUSHER.flush_all()
        for i in range(1, 4):  # the background flusher appends points, summaries follow later
            tracker.log_metric("loss", float(i))
            FLUSHER.flush_all(summaries=False)
        assert len(Client().metric_series(run.info.run_id, "loss")) == 4
        assert raw_doc(run.info.run_id)["metrics"]["loss"]["count"] == 1
        fail_document_writes(monkeypatch)
        FLUSHER.flush_all()
        assert len(Client().metric_series(run.info.run_id, "loss")) == 1  # back to what run.json counts
        assert raw_doc(run.info.run_id)["metrics"]["loss"]["count"] == 1
        monkeypatch.undo()
        with pytest.raises(WriteError):
            tracker.log_metric("loss", 4.0)
        tracker.log_metric("loss", 4.0)
    assert Client().metric_series(run.info.run_id, "loss").values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert only_run().data.summaries["loss"].count == 5


def test_threads_logging_one_key_at_once_never_mix_the_fields_of_their_points():
    import threading
    n, workers = 20_000, 4

    def log(worker):
        for i in range(n):
            point = worker * 1_000_000 + i
            tracker.log_metric("shared", float(point), step=point, timestamp=point)

    with tracker.start_run() as run:
        threads = [threading.Thread(target=log, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    series = Client().metric_series(run.info.run_id, "shared")
    assert len(series) == n * workers
    assert (series.steps == series.values.astype("int64")).all() and (series.timestamps == series.steps).all()
    assert sorted(series.steps.tolist()) == sorted(w * 1_000_000 + i for w in range(workers) for i in range(n))


def test_a_writer_dropped_without_end_releases_the_run():
    import gc
    from tracker.writer import RunWriter
    writer = RunWriter.create(tracker.get_tracking_dir(), "dropped", "Default")
    run_id = writer.run_id
    del writer
    gc.collect()
    with tracker.start_run(run_id=run_id):  # not refused: the lock went with the writer
        tracker.log_metric("m", 1.0)
    assert only_run().data.metrics == {"m": 1.0}

"""RunDocument: the one reader, checker and editor of run.json, and what the writer does with it."""
import json
import math
import os

import pytest

import tracker
from tracker import store
from tracker.entities import RunStatus
from tracker.exceptions import InvalidParameterValue
from tracker.store import layout, tempfiles
from tracker.store.rundoc import (
    CopiedRunFolder, RunDocument, RunDocumentError, document_to_run, read_document, summary_after,
)

RUN_ID = "0123456789abcdef0123456789abcdef"


def make(**info):
    return RunDocument.new(RUN_ID, "first", "Default", 1_700_000_000_000, **info)


def test_a_new_document_written_reads_back_equal(tmp_path):
    path = tmp_path / RUN_ID
    path.mkdir()
    doc = make(user="ana").with_params({"lr": "0.1"}).with_tags({"team": "vision"})
    doc.write(path)
    back = RunDocument.read(path)
    assert back.to_dict() == doc.to_dict()
    assert back.run_id == RUN_ID and back.info["user"] == "ana" and back.info["status"] == RunStatus.RUNNING
    assert dict(back.params) == {"lr": "0.1"} and dict(back.tags) == {"team": "vision"}
    assert json.loads((path / layout.RUN_DOC).read_text())["format_version"] == layout.FORMAT_VERSION
    assert read_document(path) == doc.to_dict()  # the dict form is the same decoder


def test_edits_return_new_documents_and_leave_the_old_one_as_it_was():
    doc = make()
    edited = doc.with_params({"a": "1"}).with_tags({"t": "x"}).with_info(run_name="renamed")
    assert dict(doc.params) == {} and dict(doc.tags) == {} and doc.info["run_name"] == "first"
    assert dict(edited.params) == {"a": "1"} and dict(edited.tags) == {"t": "x"}
    assert edited.info["run_name"] == "renamed"
    assert dict(edited.without_tag("t").tags) == {} and dict(edited.tags) == {"t": "x"}


def test_sections_are_read_only():
    doc = make()
    with pytest.raises(TypeError):
        doc.params["a"] = "1"  # type: ignore[index]
    with pytest.raises(TypeError):
        doc.info["status"] = RunStatus.FINISHED  # type: ignore[index]


def test_params_are_immutable_with_mlflows_message_and_a_repeat_is_no_change():
    doc = make().with_params({"lr": "0.1"})
    assert doc.with_params({"lr": "0.1"}) is doc
    with pytest.raises(InvalidParameterValue, match="Changing param values is not allowed. Param with key='lr'"):
        doc.with_params({"lr": "0.2"})


def test_deleting_a_missing_tag_names_it():
    with pytest.raises(KeyError, match="no tag 'nope'"):
        make().without_tag("nope")


def test_ending_sets_status_end_time_and_error_and_refuses_unknown_statuses():
    ended = make().ended(RunStatus.FAILED, 1_700_000_100_000, "ValueError: boom")
    assert (ended.info["status"], ended.info["end_time"], ended.info["error"]) == (
        RunStatus.FAILED, 1_700_000_100_000, "ValueError: boom")
    assert "error" not in make().ended(RunStatus.FINISHED, 1_700_000_100_000).info
    with pytest.raises(ValueError, match="unknown run status 'DONE'"):
        make().ended("DONE", 1)
    resumed = ended.resumed(pid=os.getpid(), host=store.this_host())
    assert resumed.info["status"] == RunStatus.RUNNING and resumed.info["end_time"] is None
    assert resumed.info["error"] is None


def test_summaries_follow_mlflows_value_at_the_highest_step():
    first = summary_after(None, 3, 0.5, 2.0, (2, 30, 1.0), (7, 10, 2.0))
    assert first == {"last": 1.0, "min": 0.5, "max": 2.0, "count": 3, "last_step": 2, "last_timestamp": 30,
                     "max_step": 7, "value_at_max_step": 2.0}
    lower = summary_after(first, 1, 9.0, 9.0, (3, 40, 9.0), (3, 40, 9.0))
    assert (lower["max_step"], lower["value_at_max_step"], lower["last"], lower["count"]) == (7, 2.0, 9.0, 4)
    same_step = summary_after(first, 1, 4.0, 4.0, (7, 5, 4.0), (7, 5, 4.0))  # logged later: it wins
    assert same_step["value_at_max_step"] == 4.0
    nan = summary_after(first, 1, math.nan, math.nan, (8, 50, math.nan), (8, 50, math.nan))
    assert (nan["min"], nan["max"]) == (0.5, 2.0) and math.isnan(nan["value_at_max_step"])


def test_to_run_and_the_dict_form_agree(tmp_path):
    path = tmp_path / RUN_ID
    doc = make().with_summaries({"loss": summary_after(None, 2, 0.1, 0.9, (1, 5, 0.1), (1, 5, 0.1))})
    run = doc.to_run(path)
    assert run == document_to_run(doc.to_dict(), path)
    assert run.data.metrics == {"loss": 0.1} and run.data.summaries["loss"].count == 2
    assert run.info.experiment_id == doc.experiment_id and run.info.run_name == "first"


def test_a_bad_field_is_named(tmp_path):
    raw = make().to_dict() | {"params": {"lr": 0.1}}
    with pytest.raises(RunDocumentError, match=r"params\['lr'\] must be text"):
        RunDocument.from_dict(json.loads(json.dumps(raw)))


def test_a_copied_folder_is_told_apart(tmp_path):
    original, copy = tmp_path / RUN_ID, tmp_path / ("f" * 32)
    for path in (original, copy):
        path.mkdir()
        make().write(path)
    with pytest.raises(CopiedRunFolder, match="this folder is a copy of"):
        RunDocument.read(copy)


def test_the_staging_folder_name_is_defined_once(tmp_path):
    staging = layout.staging_dir(tmp_path, RUN_ID)
    assert staging.name.startswith(layout.STAGING_PREFIX) and not layout.is_run_dir_name(staging.name)
    staging.mkdir()
    old = staging.stat().st_mtime - tempfiles.STALE_SECONDS - 5
    os.utime(staging, (old, old))
    assert tempfiles.collect(tmp_path).removed == [staging]


def test_a_writer_keeps_its_document_and_writes_the_heartbeat_file_the_layout_names(tracking_dir):
    with tracker.start_run() as run:
        writer = tracker.fluent._stack[-1]
        tracker.log_param("lr", 0.1)
        assert isinstance(writer.document, RunDocument)
        assert writer.document.to_dict() == read_document(tracking_dir / run.info.run_id)
        assert (tracking_dir / run.info.run_id / layout.HEARTBEAT).is_file()
        before = writer.document
        tracker.set_tag("t", "x")
        assert dict(before.tags).get("t") is None and writer.document.tags["t"] == "x"
    assert RunDocument.read(tracking_dir / run.info.run_id).info["status"] == RunStatus.FINISHED


def test_a_document_with_many_summaries_reads_back_equal(tmp_path):
    path = tmp_path / RUN_ID
    path.mkdir()
    summaries = {f"layer{k}/grad": summary_after(None, 1, math.nan, float(k), (k, 5, math.inf), (k, 5, float(k)))
                 for k in range(1000)}
    doc = make().with_params({"naïve": "ünïcode"}).with_summaries(summaries)
    doc.write(path)
    back = RunDocument.read(path)
    assert list(back.metrics) == list(summaries) and back.params["naïve"] == "ünïcode"
    assert repr(back.to_dict()) == repr(doc.to_dict())  # (repr: NaN compares equal to itself there)

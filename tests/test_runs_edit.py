"""Editing runs with MLflow's calls: set_tag, delete_tag, update_run, the description, as MLflow documents them."""
import pytest

import tracker
from tracker import MlflowClient
from tracker.entities import RunStatus
from tracker.exceptions import MlflowException


def finished_run(**kwargs) -> str:
    with tracker.start_run(**kwargs) as run:
        tracker.log_metric("loss", 0.5)
    return run.info.run_id


def test_set_tag_on_a_finished_run_keeps_its_status_and_times():
    run_id = finished_run(run_name="done")
    client = MlflowClient()
    before = client.get_run(run_id).info
    assert client.set_tag(run_id, "reviewed", True) is None  # MLflow: None unless synchronous=False
    assert client.set_tag(run_id, "n", 3, synchronous=False).wait() is None
    after = client.get_run(run_id)
    assert after.data.tags["reviewed"] == "True" and after.data.tags["n"] == "3"  # values stored as text
    assert (after.info.status, after.info.end_time, after.info.start_time) == (
        before.status, before.end_time, before.start_time)


def test_delete_tag_removes_it_and_a_missing_tag_is_mlflows_resource_error():
    run_id = finished_run()
    client = MlflowClient()
    client.set_tag(run_id, "temp", "x")
    client.delete_tag(run_id, "temp")
    assert "temp" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException, match=f"No tag with name: temp in run with id {run_id}") as e:
        client.delete_tag(run_id, "temp")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_update_run_renames_as_the_run_name_and_its_tag():
    run_id = finished_run(run_name="old")
    client = MlflowClient()
    end = client.get_run(run_id).info.end_time
    client.update_run(run_id, name="new name")
    run = client.get_run(run_id)
    assert run.info.run_name == "new name" and run.data.tags["mlflow.runName"] == "new name"
    assert run.info.status == "FINISHED" and run.info.end_time == end  # a rename changes nothing else
    assert [r.info.run_name for r in client.search_runs(filter_string="attributes.run_name = 'new name'")] == [
        "new name"]
    client.set_tag(run_id, "mlflow.runName", "by tag")  # MLflow's other way to rename
    assert client.get_run(run_id).info.run_name == "by tag"


def test_update_run_with_a_status_ends_the_run_now():
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.update_run(run_id, status="FAILED")
    run = client.get_run(run_id)
    assert run.info.status == RunStatus.FAILED and run.info.end_time is not None
    client.update_run(run_id)  # nothing to change: nothing changes
    assert client.get_run(run_id).info == run.info
    with pytest.raises(MlflowException, match="RUNNING only while a process writes it"):
        client.update_run(run_id, status="RUNNING")
    with pytest.raises(ValueError, match="Could not get string corresponding to run status"):
        client.update_run(run_id, status="DONE")


def test_the_description_is_mlflows_note_tag_and_can_be_edited():
    run_id = finished_run(description="first idea")
    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.description == "first idea" and run.data.tags["mlflow.note.content"] == "first idea"
    client.set_tag(run_id, "mlflow.note.content", "# Better\n\nwith *Markdown*")
    run = client.get_run(run_id)
    assert run.info.description == "# Better\n\nwith *Markdown*"
    assert client.search_runs()[0].info.description == "# Better\n\nwith *Markdown*"  # the index's copy too
    client.delete_tag(run_id, "mlflow.note.content")
    assert client.get_run(run_id).info.description == ""


def test_a_run_written_before_the_note_tag_reads_its_old_description_until_edited(tracking_dir):
    import json
    run_id = finished_run()
    doc_path = tracking_dir / run_id / "run.json"
    doc = json.loads(doc_path.read_text())
    doc["info"]["description"] = "from an older version"
    doc["tags"].pop("mlflow.note.content", None)
    doc_path.write_text(json.dumps(doc))
    client = MlflowClient()
    assert client.get_run(run_id).info.description == "from an older version"
    client.set_tag(run_id, "mlflow.note.content", "edited")
    assert client.get_run(run_id).info.description == "edited"
    assert "description" not in json.loads(doc_path.read_text())["info"]  # one place for it from now on


def test_fluent_set_tag_and_delete_tag_edit_the_active_run():
    with tracker.start_run() as run:
        tracker.set_tag("mlflow.runName", "renamed live")
        tracker.set_tag("k", "v")
        tracker.delete_tag("k")
        with pytest.raises(MlflowException, match="No tag with name: k in run with id") as e:
            tracker.delete_tag("k")
        assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST" and isinstance(e.value, KeyError)
        MlflowClient().set_tag(run.info.run_id, "from-client", "yes")  # through the active run's writer
        assert tracker.active_run().data.tags["from-client"] == "yes"
    run = MlflowClient().get_run(run.info.run_id)
    assert run.info.run_name == "renamed live" and "k" not in run.data.tags
    assert run.data.tags["from-client"] == "yes"


def test_editing_a_missing_run_is_mlflows_not_found():
    client = MlflowClient()
    for call in (lambda: client.set_tag("a" * 32, "k", "v"), lambda: client.delete_tag("a" * 32, "k"),
                 lambda: client.update_run("a" * 32, name="x")):
        with pytest.raises(MlflowException, match=f"Run '{'a' * 32}' not found") as e:
            call()
        assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"

"""Trash, not destruction: delete_run hides a run everywhere, restore_run brings it back byte for byte."""
import hashlib

import pytest

import tracker
from tracker import MlflowClient
from tracker.entities import ViewType
from tracker.exceptions import MlflowException


def logged_run(name: str, experiment: str | None = None) -> str:
    if experiment:
        tracker.set_experiment(experiment)
    with tracker.start_run(run_name=name) as run:
        tracker.log_param("lr", 0.1)
        for step in range(50):
            tracker.log_metric("loss", 1.0 / (step + 1))
        tracker.log_text("hello", "notes.txt")
    return run.info.run_id


def files_of(folder) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256), the locks aside."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def test_a_deleted_run_leaves_every_listing_and_is_listed_as_deleted(tracking_dir):
    kept, gone = logged_run("kept"), logged_run("gone")
    client = MlflowClient()
    assert {r.info.run_id for r in client.search_runs()} == {kept, gone}  # (the index knows both now)
    client.delete_run(gone)
    assert [r.info.run_id for r in client.search_runs()] == [kept]
    assert [r.info.run_id for r in tracker.search_runs(output_format="list")] == [kept]
    assert gone not in client.runs_table().run_ids()  # what the app reads
    deleted = client.search_runs(run_view_type=ViewType.DELETED_ONLY)
    assert [(r.info.run_id, r.info.lifecycle_stage) for r in deleted] == [(gone, "deleted")]
    assert deleted[0].data.metrics == {"loss": 1.0 / 50} and deleted[0].data.params == {"lr": "0.1"}
    assert deleted[0].info.artifact_uri.endswith(f"/.trash/{gone}/artifacts")
    both = client.search_runs(run_view_type=ViewType.ALL, order_by=["attributes.run_name ASC"])
    assert [(r.info.run_name, r.info.lifecycle_stage) for r in both] == [("gone", "deleted"), ("kept", "active")]
    assert [r.info.run_id for r in client.search_runs(filter_string="params.lr = '0.1'",
                                                       run_view_type=ViewType.DELETED_ONLY)] == [gone]
    run = client.get_run(gone)  # as MLflow: a deleted run is still read by id
    assert run.info.lifecycle_stage == "deleted" and run.data.params == {"lr": "0.1"}
    assert [m.value for m in client.get_metric_history(gone, "loss")][-1] == 1.0 / 50
    assert client.deleted_time(gone) >= run.info.end_time and client.deleted_time(kept) is None


def test_restore_brings_the_run_back_exactly_as_it_was(tracking_dir):
    run_id = logged_run("precious")
    client = MlflowClient()
    before_files = files_of(tracking_dir / run_id)
    before = client.get_run(run_id)
    history = client.metric_series(run_id, "loss")
    client.delete_run(run_id)
    assert not (tracking_dir / run_id).exists()
    client.delete_run(run_id)  # deleting a deleted run leaves it as it is
    client.restore_run(run_id)
    assert files_of(tracking_dir / run_id) == before_files  # metric files byte for byte, run.json too
    after = client.get_run(run_id)
    assert after.info == before.info and after.data == before.data
    restored = client.metric_series(run_id, "loss")
    assert restored.values.tobytes() == history.values.tobytes() and restored.steps.tolist() == history.steps.tolist()
    assert [r.info.run_id for r in client.search_runs()] == [run_id]
    assert client.search_runs(run_view_type=ViewType.DELETED_ONLY) == []
    client.restore_run(run_id)  # restoring an active run leaves it as it is


def test_a_deleted_run_refuses_writes_with_mlflows_error():
    run_id = logged_run("r")
    client = MlflowClient()
    client.delete_run(run_id)
    message = f"The run {run_id} must be in the 'active' state. Current state is deleted."
    for write in (lambda: client.set_tag(run_id, "k", "v"), lambda: client.log_metric(run_id, "m", 1.0),
                  lambda: client.log_param(run_id, "p", 1), lambda: client.update_run(run_id, name="x"),
                  lambda: client.log_text(run_id, "x", "x.txt"), lambda: client.set_terminated(run_id)):
        with pytest.raises(MlflowException, match=message) as e:
            write()
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match=f"Run '{'e' * 32}' not found"):
        client.delete_run("e" * 32)
    with pytest.raises(MlflowException, match=f"Run '{'e' * 32}' not found"):
        client.restore_run("e" * 32)


def test_the_active_run_of_this_process_cannot_be_deleted_until_it_ends():
    with tracker.start_run() as run:
        with pytest.raises(MlflowException, match="active in this process; end it") as e:
            MlflowClient().delete_run(run.info.run_id)
        assert e.value.error_code == "INVALID_STATE"
    MlflowClient().delete_run(run.info.run_id)
    assert MlflowClient().get_run(run.info.run_id).info.lifecycle_stage == "deleted"


def test_deleting_an_experiment_moves_its_runs_and_restoring_it_brings_back_only_those():
    client = MlflowClient()
    earlier = logged_run("deleted-before", "vision")
    with_it = logged_run("with-the-experiment", "vision")
    other = logged_run("elsewhere", "audio")
    client.delete_run(earlier)
    vision = client.get_experiment_by_name("vision").experiment_id
    client.delete_experiment(vision)
    assert [r.info.run_id for r in client.search_runs()] == [other]
    assert {r.info.run_id for r in client.search_runs(run_view_type=ViewType.DELETED_ONLY)} == {earlier, with_it}
    client.restore_experiment(vision)
    assert {r.info.run_id for r in client.search_runs()} == {with_it, other}
    assert [r.info.run_id for r in client.search_runs(run_view_type=ViewType.DELETED_ONLY)] == [earlier]


def test_fluent_delete_run_is_mlflows():
    run_id = logged_run("r")
    tracker.delete_run(run_id)
    assert MlflowClient().get_run(run_id).info.lifecycle_stage == "deleted"


def test_resuming_a_deleted_run_says_it_is_deleted():
    run_id = logged_run("r")
    MlflowClient().delete_run(run_id)
    with pytest.raises(MlflowException, match="must be in the 'active' state. Current state is deleted"):
        tracker.start_run(run_id=run_id)
    MlflowClient().restore_run(run_id)
    with tracker.start_run(run_id=run_id):
        tracker.log_metric("loss", 0.01)
    assert MlflowClient().get_run(run_id).data.summaries["loss"].count == 51

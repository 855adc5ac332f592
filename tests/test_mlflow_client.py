"""MlflowClient's tracking half, checked against what MLflow's documentation says each call returns or raises."""
import pytest

import tracker
from tracker import MlflowClient
from tracker.entities import Metric, Param, RunStatus, RunTag, ViewType
from tracker.exceptions import MlflowException


def test_the_client_has_mlflows_names():
    from tracker.tracking import MlflowClient as from_tracking
    assert tracker.MlflowClient is tracker.Client is from_tracking is MlflowClient


def test_create_get_and_duplicate_experiment():
    client = MlflowClient()
    exp_id = client.create_experiment("vision", tags={"team": "cv"})
    assert isinstance(exp_id, str) and exp_id.isdigit() and exp_id != "0"
    exp = client.get_experiment(exp_id)
    assert (exp.experiment_id, exp.name, exp.lifecycle_stage, exp.tags) == (exp_id, "vision", "active", {"team": "cv"})
    assert exp.creation_time > 0 and exp.last_update_time >= exp.creation_time and exp.artifact_location
    assert client.get_experiment_by_name("vision") == exp
    assert client.get_experiment_by_name("missing") is None
    assert client.get_experiment_by_name("Default").experiment_id == "0" == client.get_experiment("0").experiment_id
    with pytest.raises(MlflowException, match="Experiment 'vision' already exists.") as e:
        client.create_experiment("vision")
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException, match="Could not find experiment with ID 12345") as e:
        client.get_experiment("12345")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST" and e.value.get_http_status_code() == 404


def test_delete_and_restore_experiment_hide_it_and_its_runs():
    client = MlflowClient()
    kept, gone = client.create_experiment("kept"), client.create_experiment("gone")
    for exp_id in (kept, gone):
        client.set_terminated(client.create_run(exp_id).info.run_id)
    client.delete_experiment(gone)
    assert [e.name for e in client.search_experiments()] == ["kept"]
    assert [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)] == ["gone"]
    assert client.get_experiment(gone).lifecycle_stage == "deleted"
    assert len(client.search_runs([kept, gone])) == 1
    assert len(client.search_runs([gone], run_view_type=ViewType.ALL)) == 1
    with pytest.raises(MlflowException, match="already exists in deleted state"):
        client.create_experiment("gone")
    with pytest.raises(MlflowException):
        client.create_run(gone)
    client.restore_experiment(gone)
    assert sorted(e.name for e in client.search_experiments()) == ["gone", "kept"]
    assert len(client.search_runs([kept, gone])) == 2
    with pytest.raises(MlflowException, match="Cannot delete the default experiment '0'"):
        client.delete_experiment("0")


def test_search_experiments_filter_order_and_pages():
    client = MlflowClient()
    for name in ("b-exp", "a-exp", "c-other"):
        client.create_experiment(name, tags={"kind": name[0]})
    assert [e.name for e in client.search_experiments(filter_string="name LIKE '%-exp'", order_by=["name"])] \
        == ["a-exp", "b-exp"]
    assert [e.name for e in client.search_experiments(filter_string="tags.kind = 'c'")] == ["c-other"]
    # the runs' grammar: OR, escaped LIKE, numbers for the times
    either = client.search_experiments(filter_string="name = 'a-exp' or tags.kind = 'c'", order_by=["name"])
    assert [e.name for e in either] == ["a-exp", "c-other"]
    assert client.search_experiments(filter_string=r"name LIKE 'a\_exp'") == []
    assert len(client.search_experiments(filter_string="creation_time > 0 and name ILIKE 'B-%'")) == 1
    with pytest.raises(MlflowException, match="invalid attribute key 'color'") as bad:
        client.search_experiments(filter_string="color = 'red'")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"
    first = client.search_experiments(max_results=2, order_by=["name DESC"])
    assert [e.name for e in first] == ["c-other", "b-exp"] and first.token
    rest = client.search_experiments(max_results=2, order_by=["name DESC"], page_token=first.token)
    assert [e.name for e in rest] == ["a-exp"] and rest.token is None
    client.set_experiment_tag(client.get_experiment_by_name("a-exp").experiment_id, "owner", "ada")
    assert client.get_experiment_by_name("a-exp").tags == {"kind": "a", "owner": "ada"}


def test_create_run_log_and_terminate():
    client = MlflowClient()
    exp_id = client.create_experiment("e")
    run = client.create_run(exp_id, run_name="by-client", tags={"team": "a"})
    run_id = run.info.run_id
    assert (run.info.status, run.info.experiment_id, run.info.run_name) == ("RUNNING", exp_id, "by-client")
    assert run.info.run_uuid == run_id and run.info.lifecycle_stage == "active" and run.info.end_time is None
    assert run.data.tags["team"] == "a" and run.data.tags["mlflow.runName"] == "by-client"
    assert client.log_param(run_id, "lr", 0.1) == 0.1
    client.log_metric(run_id, "loss", 0.5, step=1)
    client.log_batch(run_id, metrics=[Metric("loss", 0.25, 1_700_000_000_000, 2)],
                     params=[Param("opt", "adam")], tags=[RunTag("stage", "dev")])
    client.set_tag(run_id, "temp", "x")
    client.delete_tag(run_id, "temp")
    client.set_terminated(run_id)
    done = client.get_run(run_id)
    assert done.info.status == RunStatus.FINISHED and done.info.end_time >= done.info.start_time
    assert done.data.params == {"lr": "0.1", "opt": "adam"}
    assert done.data.metrics == {"loss": 0.25}
    assert "temp" not in done.data.tags and done.data.tags["stage"] == "dev"
    history = client.get_metric_history(run_id, "loss")
    assert [(m.key, m.value, m.step) for m in history] == [("loss", 0.5, 1), ("loss", 0.25, 2)]
    assert history[1].timestamp == 1_700_000_000_000


def test_writing_to_a_finished_run_keeps_its_status_and_end_time():
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.set_terminated(run_id, status="FAILED", end_time=1_800_000_000_000)
    client.log_metric(run_id, "late", 1.0)
    client.set_tag(run_id, "note", "added after")
    run = client.get_run(run_id)
    assert (run.info.status, run.info.end_time) == ("FAILED", 1_800_000_000_000)
    assert run.data.metrics == {"late": 1.0} and run.data.tags["note"] == "added after"


def test_client_writes_reach_the_fluent_active_run():
    with tracker.start_run() as run:
        MlflowClient().log_param(run.info.run_id, "from_client", 1)
        MlflowClient().set_tag(run.info.run_id, "k", "v")
        tracker.log_param("from_fluent", 2)
    data = MlflowClient().get_run(run.info.run_id).data
    assert data.params == {"from_client": "1", "from_fluent": "2"} and data.tags["k"] == "v"


def test_missing_run_and_bad_arguments_raise_mlflows_errors():
    client = MlflowClient()
    with pytest.raises(MlflowException, match=f"Run '{'f' * 32}' not found") as e:
        client.get_run("f" * 32)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(LookupError):  # what code written for tracker catches
        client.get_run("not-a-run-id")
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "p", 1)
    with pytest.raises(MlflowException, match="Changing param values is not allowed. Param with key='p' was "
                                              "already logged with value='1'") as e:
        client.log_param(run_id, "p", 2)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE" and e.value.get_http_status_code() == 400
    with pytest.raises(MlflowException, match="Names may be treated as files"):
        client.log_metric(run_id, "../escape", 1.0)
    with pytest.raises(MlflowException, match="No tag with name: nope"):
        client.delete_tag(run_id, "nope")
    client.set_terminated(run_id)


def test_search_runs_takes_experiment_ids_and_pages():
    client = MlflowClient()
    exp_id = client.create_experiment("paged")
    ids = []
    for i in range(5):
        run_id = client.create_run(exp_id).info.run_id
        client.log_metric(run_id, "m", float(i))
        client.set_terminated(run_id)
        ids.append(run_id)
    client.set_terminated(client.create_run("0").info.run_id)
    first = client.search_runs([exp_id], "metrics.m >= 1", ViewType.ACTIVE_ONLY, 3, ["metrics.m DESC"])
    assert [r.data.metrics["m"] for r in first] == [4.0, 3.0, 2.0] and first.token
    rest = client.search_runs([exp_id], "metrics.m >= 1", max_results=3, order_by=["metrics.m DESC"],
                              page_token=first.token)
    assert [r.data.metrics["m"] for r in rest] == [1.0] and rest.token is None
    assert len(client.search_runs(exp_id)) == 5  # one id alone
    assert len(client.search_runs(["paged"])) == 5  # names still work
    assert len(client.search_runs()) == 6
    assert [r.info.experiment_id for r in client.search_runs([exp_id])] == [exp_id] * 5


def test_artifacts_list_and_download(tmp_path):
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("A")
    (src / "empty").mkdir()
    client.log_artifacts(run_id, src, "data")
    client.log_text(run_id, "hello", "notes/hello.txt")
    client.set_terminated(run_id)
    top = [(f.path, f.is_dir) for f in client.list_artifacts(run_id) if f.path != "tracker"]  # (a dirty tree's diff)
    assert top == [("data", True), ("notes", True)]
    assert [f.path for f in client.list_artifacts(run_id, "data")] == ["data/empty", "data/sub"]
    local = client.download_artifacts(run_id, "data/sub/a.txt", tmp_path / "dst")
    assert open(local).read() == "A"
    folder = client.download_artifacts(run_id, "notes", tmp_path / "dst2")
    assert open(f"{folder}/hello.txt").read() == "hello"
    with pytest.raises(MlflowException):
        client.download_artifacts(run_id, "missing.txt", tmp_path / "dst3")


def test_a_client_run_never_terminated_is_saved_and_ended_at_exit(tracking_dir):
    import subprocess
    import sys
    code = ("import sys, tracker\nc = tracker.MlflowClient(sys.argv[1])\nr = c.create_run('0')\n"
            "for i in range(100): c.log_metric(r.info.run_id, 'm', float(i), step=i)\nprint(r.info.run_id)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tracking_dir)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    run = MlflowClient().get_run(out.stdout.strip())
    assert run.info.status == "FINISHED" and run.data.metrics == {"m": 99.0}
    assert len(MlflowClient().get_metric_history(run.info.run_id, "m")) == 100


def test_a_reading_client_does_not_import_the_writer():
    import subprocess
    import sys
    code = ("import sys, tracker\nc = tracker.MlflowClient()\nc.search_runs(); c.search_experiments()\n"
            "print([m for m in ('tracker.writer', 'tracker.fluent', 'pandas') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

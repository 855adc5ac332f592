"""``Client.create_run`` records no source of the calling process, as MLflow's client: a run made
through the client (an importer, a demo, a service) is not the code that calls it."""
from __future__ import annotations

import tracker
from tracker import Client


def test_a_client_run_has_no_source_or_git_state_of_its_caller(tracking_dir):
    client = Client(tracking_dir)
    run = client.create_run("0", run_name="made elsewhere")
    client.set_terminated(run.info.run_id)
    tags = client.get_run(run.info.run_id).data.tags
    assert not [k for k in tags if k.startswith(("tracker.source.", "mlflow.source."))]
    assert "tracker.source.argv" not in tags and "tracker.pid" not in tags
    assert tags["tracker.user"] and tags["mlflow.runName"] == "made elsewhere"


def test_a_fluent_run_records_its_source(tracking_dir):
    with tracker.start_run() as run:
        pass
    tags = Client(tracking_dir).get_run(run.info.run_id).data.tags
    assert tags["tracker.source.type"] and "tracker.source.argv" in tags

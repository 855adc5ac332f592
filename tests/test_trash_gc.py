"""``tracker ls --deleted`` and ``tracker gc``: deleted runs removed for good, never one a model version came from."""
import json
import os
import time

import tracker
from tracker import cli
from tracker.entities import ViewType


def logged_run(name: str) -> str:
    with tracker.start_run(run_name=name) as run:
        tracker.log_metric("loss", 0.5)
        tracker.log_text("weights", "model/weights.txt")
    return run.info.run_id


def age_deletion(tracking_dir, run_id: str, seconds: float) -> None:
    record = tracking_dir / ".trash" / f"{run_id}.json"
    doc = json.loads(record.read_text())
    doc["deleted_time"] -= int(seconds * 1000)
    record.write_text(json.dumps(doc))


def test_ls_deleted_lists_only_the_trash(tracking_dir, capsys):
    kept, gone = logged_run("kept-run"), logged_run("gone-run")
    tracker.Client().delete_run(gone)
    assert cli.main(["ls"]) == 0
    out = capsys.readouterr()
    assert kept[:8] in out.out and gone[:8] not in out.out
    assert cli.main(["ls", "--deleted"]) == 0
    out = capsys.readouterr()
    assert gone[:8] in out.out and "gone-run" in out.out and kept[:8] not in out.out
    assert "DELETED" in out.out.splitlines()[0] and "1 deleted run(s)" in out.err
    assert cli.main(["show", gone[:8]]) == 0  # the short id ls --deleted prints
    assert "deleted     " in capsys.readouterr().out


def test_gc_removes_deleted_runs_older_than_asked_and_nothing_else(tracking_dir, capsys):
    client = tracker.Client()
    old, recent, active = logged_run("old"), logged_run("recent"), logged_run("active")
    client.delete_run(old)
    client.delete_run(recent)
    age_deletion(tracking_dir, old, 31 * 86400)
    assert cli.main(["gc", "--older-than", "30d", "--dry-run"]) == 0
    assert f"would remove deleted run {old}" in capsys.readouterr().out
    assert (tracking_dir / ".trash" / old).is_dir()
    assert cli.main(["gc", "--older-than", "30d"]) == 0
    assert f"removed deleted run {old}" in capsys.readouterr().out
    assert not (tracking_dir / ".trash" / old).exists() and not (tracking_dir / ".trash" / f"{old}.json").exists()
    assert [r.info.run_id for r in client.search_runs(run_view_type=ViewType.DELETED_ONLY)] == [recent]
    assert cli.main(["gc"]) == 0  # no age given: every deleted run
    assert client.search_runs(run_view_type=ViewType.DELETED_ONLY) == []
    assert [r.info.run_id for r in client.search_runs(run_view_type=ViewType.ALL)] == [active]
    assert client.get_run(active).data.metrics == {"loss": 0.5}


def test_gc_refuses_a_run_that_backs_a_registered_version_and_names_it(tracking_dir, capsys):
    client = tracker.Client()
    backing, plain = logged_run("trained-the-model"), logged_run("plain")
    version = client.register_model(f"runs:/{backing}/model", "clf")
    client.delete_run(backing)
    client.delete_run(plain)
    assert cli.main(["gc"]) == 1
    err = capsys.readouterr().err
    assert f"kept deleted run {backing}: registered model version(s) clf v{version.version} came from it" in err
    assert (tracking_dir / ".trash" / backing / "artifacts" / "model" / "weights.txt").read_text() == "weights"
    assert not (tracking_dir / ".trash" / plain).exists()
    client.delete_model_version("clf", version.version)
    assert cli.main(["gc", "--run-ids", backing]) == 0
    assert not (tracking_dir / ".trash" / backing).exists()


def test_gc_still_removes_old_leftovers_and_reads_durations(tracking_dir, capsys):
    run_id = logged_run("r")
    stale = tracking_dir / run_id / "artifacts" / ".x.bin.k2j4h1xq.part"
    stale.write_bytes(b"half")
    then = time.time() - 7200
    os.utime(stale, (then, then))
    assert cli.main(["gc", "--older-than", "3h"]) == 0
    assert stale.exists()  # younger than three hours
    assert cli.main(["gc", "--older-than", "1h30m"]) == 0
    assert not stale.exists()
    assert cli.main(["gc", "--older-than", "2 weeks"]) == 2
    assert "could not read the duration '2 weeks'" in capsys.readouterr().err

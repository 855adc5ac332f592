"""``tracker import mlflow``: stores made by MLflow read back the same through tracker.Client and
tracker's registry after the import, run ids kept; a second import adds nothing."""
from __future__ import annotations

import math
import os
import shutil

import pytest

from test_mlflow_store_maker import GIT_COMMIT, session_store
from tracker.cli import main
from tracker.client import Client
from tracker.mlflow_import import STORE_TAG, VERSION_TAG, import_mlflow

KINDS = ["file", "sqlite"]


@pytest.fixture(params=KINDS)
def imported(request, tmp_path_factory, tmp_path):
    """(store path, what MLflow's client read back, the import report, the tracker runs directory)."""
    path, expected = session_store(request.param, tmp_path_factory)
    dest = tmp_path / "imported"
    return path, expected, import_mlflow(path, dest), dest


def active_runs(expected: dict) -> list[dict]:
    deleted_exps = {e["id"] for e in expected["experiments"] if e["lifecycle_stage"] == "deleted"}
    return [r for r in expected["runs"] if r["lifecycle_stage"] == "active" and r["experiment_id"] not in deleted_exps]


def test_runs_keep_their_ids_params_tags_and_metrics(imported):
    path, expected, report, dest = imported
    client = Client(dest)
    wanted = {r["run_id"]: r for r in active_runs(expected)}
    assert sorted(report.imported) == sorted(wanted) and report.problems == [] and report.unreadable == []
    runs = {r.info.run_id: r for r in client.search_runs()}
    assert runs.keys() == wanted.keys()  # the deleted run and the deleted experiment's run were left out
    names = {e["id"]: e["name"] for e in expected["experiments"]}
    for run_id, want in wanted.items():
        run = runs[run_id]
        assert (run.info.run_name, run.info.status) == (want["run_name"], want["status"])
        assert run.info.experiment == names[want["experiment_id"]]
        assert (run.info.start_time, run.info.end_time) == (want["start_time"], want["end_time"])
        assert run.data.params == want["params"]
        assert {k: v for k, v in run.data.tags.items() if not k.startswith("tracker.")} == want["tags"]
        for key, value in want["metrics"].items():
            got = run.data.metrics[key]
            assert (value is None and math.isnan(got)) or got == value  # MLflow's value at the highest step
        assert run.info.parent_run_id == want["tags"].get("mlflow.parentRunId")
    parent = next(r for r in runs.values() if r.info.run_name == "parent")
    assert parent.info.description == "first try\nwith a second line"
    assert parent.data.tags["tracker.source.git.commit"] == GIT_COMMIT
    assert {e.name for e in client.search_experiments()} >= {"Default", "vision"}
    assert "abandoned" not in {e.name for e in client.search_experiments()}


def test_every_metric_point_and_artifact_is_copied(imported):
    path, expected, _, dest = imported
    client = Client(dest)
    for want in active_runs(expected):
        for key, points in want["histories"].items():
            history = client.get_metric_history(want["run_id"], key)
            ours = [[m.step, m.timestamp, None if math.isnan(m.value) else m.value] for m in history]
            assert ours == points if "file" in str(path) else sorted(ours, key=repr) == sorted(points, key=repr)
            logged = expected["logged"][want["run_name"]][key]
            assert [[p[0], p[2]] for p in ours] == [[s, None if math.isnan(v) else v] for s, v in logged]
        folder = dest / want["run_id"] / "artifacts"
        files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
        models = {f"{name}/{rel}": size for name, found in want["logged_models"].items() for rel, size in found.items()}
        assert files == {**want["artifacts"], **models}  # MLflow 3's logged models under their names
    parent = next(r for r in active_runs(expected) if r["run_name"] == "parent")
    assert (dest / parent["run_id"] / "artifacts/plots/deep/b.bin").read_bytes() == bytes(range(256))
    if "file" in str(path):  # the store logged a sklearn model with log_model(name="model")
        sk = next(r for r in active_runs(expected) if r["run_name"] == "sklearn")
        assert "MLmodel" in sk["logged_models"]["model"]
        assert (dest / sk["run_id"] / "artifacts/model/MLmodel").is_file()


def test_registered_versions_keep_stages_aliases_and_their_run(imported):
    path, expected, report, dest = imported
    client = Client(dest)
    mapping = {(m, a): b for m, a, b in report.versions}
    assert set(mapping) == {(v["name"], v["version"]) for v in expected["versions"]}
    for want in expected["versions"]:
        got = client.get_model_version(want["name"], mapping[(want["name"], want["version"])])
        assert got.current_stage == want["current_stage"]
        assert got.run_id == want["run_id"] and got.run_link == "run"
        assert {k: v for k, v in got.tags.items() if not k.startswith("mlflow.import.")} == want["tags"]
        assert got.tags[VERSION_TAG] == str(want["version"])
        assert got.description == (want["description"] or "")
    classifier = client.get_registered_model("classifier")
    assert (classifier.description, classifier.tags) == ("the classifier", {"owner": "ml"})
    assert classifier.aliases == {"champion": mapping[("classifier", 2)], "challenger": mapping[("classifier", 4)]}
    assert mapping == {**mapping, ("classifier", 1): 1, ("classifier", 2): 2, ("classifier", 4): 3}  # 3 was deleted
    model_dir = client.resolve_models_uri("models:/classifier@champion")
    assert (model_dir / "weights.bin").read_bytes() == b"\x00\x01weights"
    lineage = client.get_model_lineage("classifier", mapping[("classifier", 2)])
    assert lineage.git_commit == GIT_COMMIT and lineage.run_exists  # lineage works from MLflow's git tag


def test_a_second_import_adds_nothing(imported):
    path, expected, first, dest = imported
    client = Client(dest)
    history = {m.name: len(client.get_model_history(m.name)) for m in client.search_registered_models()}
    again = import_mlflow(path, dest)
    assert again.imported == [] and sorted(again.already_there) == sorted(first.imported)
    assert again.versions == [] and again.versions_already_there == len(expected["versions"])
    assert {m.name: len(client.get_model_history(m.name)) for m in client.search_registered_models()} == history
    assert len(client.search_runs()) == len(first.imported)


def test_cli_imports_into_the_given_directory(tmp_path, tmp_path_factory, capsys):
    path, expected = session_store("sqlite", tmp_path_factory)
    dest = tmp_path / "cli-runs"
    assert main(["import", "mlflow", f"sqlite:///{path}", "--to", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"Imported {len(active_runs(expected))} run(s) into {dest}" in out
    assert main(["import", "mlflow", str(path), "--to", str(dest)]) == 0
    assert "0 run(s)" in capsys.readouterr().out
    assert main(["import", "mlflow", str(tmp_path), "--to", str(dest)]) == 2  # not an MLflow store
    assert "not an MLflow store" in capsys.readouterr().err


def test_odd_ids_links_and_leftovers_are_reported_not_fatal(tmp_path, tmp_path_factory):
    path, expected = session_store("file", tmp_path_factory)
    root = tmp_path / "mlruns"
    shutil.copytree(path, root, symlinks=True)
    ids = {r["run_name"]: r["run_id"] for r in expected["runs"]}
    old = next(root.glob(f"*/{ids['child-0']}"))
    odd = old.with_name("Run-From-Elsewhere")
    old.rename(odd)
    meta = (odd / "meta.yaml").read_text().replace(ids["child-0"], "Run-From-Elsewhere")
    (odd / "meta.yaml").write_text(meta)
    parent_artifacts = next(root.glob(f"*/{ids['parent']}")) / "artifacts"
    os.symlink("/etc/hostname", parent_artifacts / "link-to-elsewhere")
    dest = tmp_path / "imported"
    leftover = dest / f".tmp-{ids['crashed']}"  # an import that was interrupted (the staging name runs use)
    (leftover / "artifacts").mkdir(parents=True)
    (leftover / "artifacts" / "junk").write_text("half")
    report = import_mlflow(root, dest)
    assert any("Run-From-Elsewhere" in p and "32" in p for p in report.problems)
    assert any("link-to-elsewhere" in p for p in report.problems)
    assert not (dest / ids["parent"] / "artifacts" / "link-to-elsewhere").exists()
    assert not leftover.exists() and list((dest / ids["crashed"] / "artifacts").iterdir()) == []
    assert ids["parent"] in report.imported and ids["crashed"] in report.imported
    assert Client(dest).get_run(ids["crashed"]).data.metrics == {"loss": 3.0}


def test_two_stores_into_one_directory_keep_their_versions_apart(tmp_path, tmp_path_factory):
    dest = tmp_path / "imported"
    import_mlflow(session_store("file", tmp_path_factory)[0], dest)
    second = import_mlflow(session_store("sqlite", tmp_path_factory)[0], dest)
    assert [(m, a) for m, a, _ in second.versions] == [("classifier", 1), ("classifier", 2), ("classifier", 4)]
    stores = {mv.tags[STORE_TAG] for mv in Client(dest).list_model_versions("classifier")}
    assert len(stores) == 2


def test_importing_into_the_store_itself_is_refused(tmp_path_factory, tmp_path):
    path, _ = session_store("file", tmp_path_factory)
    for dest in (path, path / "sub"):
        with pytest.raises(ValueError, match="MLflow store itself"):
            import_mlflow(path, dest)
    assert not (path / "sub").exists()

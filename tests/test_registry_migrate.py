"""``tracker models migrate``: a local SQLite registry copied into a PostgreSQL one with its whole
history, files that load (sha256-checked) on the team's side, a refusal to mix names unless --merge,
what --merge does, and nothing left in the target when it fails."""
from __future__ import annotations

import dataclasses
import json
import os

import pytest
from registry_backends import close_registries

import tracker
from tracker.cli import main
from tracker.integrity import ModelIntegrityError
from tracker.registry import migrate as migrating
from tracker.registry.registry import Registry

TREE = "sklearn.tree._tree.Tree"


@pytest.fixture
def team(postgres_url, tmp_path):
    """The team's runs folder (another mount) and a PostgreSQL registry; connections closed at the end."""
    runs = tmp_path / "team-runs"
    runs.mkdir()
    yield runs, postgres_url
    close_registries(postgres_url)


def save_tree(folder, flip: bool = False):
    from sklearn.tree import DecisionTreeClassifier
    tracker.sklearn.save_model(DecisionTreeClassifier().fit([[0], [1]], [1, 0] if flip else [0, 1]), folder)
    return folder


def local_registry(tmp_path) -> tracker.Client:
    """A local registry with a bit of everything: a run's model, trust, stages, aliases, tags,
    descriptions, a deleted version, a renamed model and a deleted one."""
    client = tracker.Client()
    with tracker.start_run(run_name="trainer") as run:
        tracker.log_param("depth", 2)
        tracker.log_metric("acc", 0.9)
        tracker.log_artifacts(str(save_tree(tmp_path / "tree")), "model")
    client.register_model(f"runs:/{run.info.run_id}/model", "tree", tags={"team": "ml"}, description="first",
                          trusted=[TREE])
    client.register_model(save_tree(tmp_path / "flipped", flip=True), "tree", trusted=[TREE])
    client.register_model(save_tree(tmp_path / "third"), "tree")
    client.transition_model_version_stage("tree", 1, "Production")
    client.transition_model_version_stage("tree", 2, "Production", archive_existing_versions=True)
    client.set_registered_model_alias("tree", "champion", 2)
    client.set_registered_model_alias("tree", "challenger", 1)
    client.set_model_version_tag("tree", 2, "checked", "yes")
    client.set_registered_model_tag("tree", "owner", "ana")
    client.update_registered_model("tree", "decides")
    client.delete_model_version("tree", 3)
    (tmp_path / "w.bin").write_bytes(b"weights")
    client.register_model(tmp_path / "w.bin", "churn-old")
    client.rename_registered_model("churn-old", "churn")
    client.delete_registered_model("churn")
    return client


def snapshot(registry: Registry, runs) -> dict:
    """Everything a user can read about every model, with the runs folder's path taken out."""
    def plain(obj) -> dict:
        data = json.loads(json.dumps(dataclasses.asdict(obj)).replace(str(runs), "<runs>"))
        data.pop("run_exists", None)  # the runs themselves are not migrated
        return data

    found = {}
    for model in registry.search_registered_models(include_deleted=True):
        name = model.name
        versions = registry.list_model_versions(name, include_deleted=True)
        found[name] = {
            "model": plain(model) if not model.deleted else {"deleted": True, "name": name},
            "versions": [plain(v) for v in versions],
            "history": [{**plain(e), "id": None} for e in registry.get_model_history(name)],
            "lineage": [plain(registry.get_model_lineage(name, v.version)) for v in versions],
        }
    return found


def test_migrating_to_postgresql_keeps_everything_and_the_team_loads_it(tmp_path, tracking_dir, team, monkeypatch,
                                                                          capsys):
    team_runs, url = team
    local = local_registry(tmp_path)
    before = snapshot(local.registry, tracking_dir)
    assert main(["models", "migrate", "--to", url, "--to-dir", str(team_runs)]) == 0
    assert "2 model(s), 4 version(s): files copied for 4" in capsys.readouterr().out
    shared = Registry(team_runs, url=url)
    try:
        assert snapshot(shared, team_runs) == before
        assert shared.get_model_version("tree", 1).storage_path.startswith(str(team_runs / "registry"))
    finally:
        shared.close()

    monkeypatch.setenv("TRACKER_REGISTRY_URL", url)  # a team member's machine
    tracker.set_tracking_dir(team_runs)
    assert tracker.load_model("models:/tree/1").predict([[1]])[0] == 1  # its trust came along
    assert tracker.load_model("models:/tree@champion").predict([[1]])[0] == 0
    stored = tracker.Client().resolve_models_uri("models:/tree/1") / "model.skops"
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="model.skops"):
        tracker.load_model("models:/tree/1")


def test_files_already_in_the_targets_storage_are_pointed_at_not_copied(tmp_path, tracking_dir, team):
    _, url = team
    local_registry(tmp_path)
    target = Registry(tracking_dir, url=url)  # the runs folder is the shared one already
    source = migrating.source_registry(tracking_dir, None)
    try:
        result = migrating.migrate(source, target)
        assert (result.copied, result.pointed) == (0, 4)
        assert target.resolve_models_uri("models:/tree/2") == tracking_dir / "registry" / "tree" / "2"
    finally:
        source.close()
        target.close()


def test_a_name_the_target_has_refuses_the_whole_migration(tmp_path, tracking_dir, team, capsys):
    team_runs, url = team
    local_registry(tmp_path)
    shared = Registry(team_runs, url=url)
    try:
        (tmp_path / "theirs.bin").write_bytes(b"theirs")
        shared.register_model(tmp_path / "theirs.bin", "tree")
        assert main(["models", "migrate", "--to", url, "--to-dir", str(team_runs)]) == 2
        err = capsys.readouterr().err
        assert "already has model(s) named 'tree'" in err and "--merge" in err
        assert [m.name for m in shared.search_registered_models(include_deleted=True)] == ["tree"]
        assert [v.version for v in shared.list_model_versions("tree")] == [1]
        assert sorted(os.listdir(team_runs / "registry")) == [".tmp", "tree"]
        assert os.listdir(team_runs / "registry" / ".tmp") == []
    finally:
        shared.close()


def test_merge_appends_the_versions_after_the_targets_own(tmp_path, tracking_dir, team, capsys):
    team_runs, url = team
    local_registry(tmp_path)
    shared = Registry(team_runs, url=url)
    try:
        shared.register_model(save_tree(tmp_path / "theirs"), "tree", trusted=[TREE])
        shared.set_registered_model_alias("tree", "champion", 1)
        assert main(["models", "migrate", "--to", url, "--to-dir", str(team_runs), "--merge"]) == 0
        out = capsys.readouterr().out
        assert "tree: v1 -> v2, v2 -> v3, v3 -> v4" in out and "tree@champion: the target's alias was kept" in out
        versions = {v.version: v for v in shared.list_model_versions("tree", include_deleted=True)}
        assert sorted(versions) == [1, 2, 3, 4] and versions[4].deleted
        assert (versions[2].current_stage, versions[3].current_stage) == ("Archived", "Production")
        assert versions[2].run_id is not None and versions[3].tags == {"checked": "yes"}
        model = shared.get_registered_model("tree")
        assert model.aliases == {"challenger": 2, "champion": 1}  # the team's champion stays
        assert model.tags == {"owner": "ana"} and model.description == "decides"  # filled in: it had none
        history = shared.get_model_history("tree")
        assert [e.action for e in history].count("create_model") == 1
        assert [(e.version, e.to_value) for e in history if e.action == "alias_set" and e.key == "challenger"] \
            == [(2, "2")]
        assert history[-1].action == "merge" and "v1 as v2" in history[-1].comment
        assert shared.resolve_models_uri("models:/tree/3").is_dir()
    finally:
        shared.close()


def test_a_failure_leaves_the_target_as_it_was(tmp_path, tracking_dir, team, monkeypatch):
    team_runs, url = team
    local_registry(tmp_path)
    written = []

    def fail_on_the_second_model(db, model_id=None, name=None):
        written.append(name)
        if len(written) == 2:
            raise RuntimeError("the server went away")
    monkeypatch.setattr(migrating, "notify", fail_on_the_second_model)
    source, target = migrating.source_registry(tracking_dir, None), Registry(team_runs, url=url)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            migrating.migrate(source, target)
        assert written == ["churn", "tree"] or written == ["tree", "churn"]
        assert target.search_registered_models(include_deleted=True) == []
        assert target.registry_changed_token() == (0, 0)
        left = [p for p in (team_runs / "registry").rglob("*") if p.is_file()]
        assert left == []
    finally:
        source.close()
        target.close()


def test_a_changed_local_file_stops_the_migration_before_anything_is_written(tmp_path, tracking_dir, team):
    team_runs, url = team
    local = local_registry(tmp_path)
    stored = local.resolve_models_uri("models:/tree/2") / "model.skops"
    stored.chmod(0o644)
    stored.write_bytes(b"changed")
    assert main(["models", "migrate", "--to", url, "--to-dir", str(team_runs)]) == 2
    target = Registry(team_runs, url=url)
    try:
        assert target.search_registered_models(include_deleted=True) == []
        assert [p for p in (team_runs / "registry").rglob("*") if p.is_file()] == []
    finally:
        target.close()

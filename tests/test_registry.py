"""The model registry's API: registration, models, versions, stages, aliases, history, bad input."""
from __future__ import annotations

import os
import stat

import pytest

import tracker
from tracker.registry import (
    STAGES, AliasNotFoundError, ModelExistsError, ModelNotFoundError, ModelVersionNotFoundError, Registry,
)

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")


@pytest.fixture
def client(tracking_dir):
    return tracker.Client()


def make_file(tmp_path, name="model.bin", content=b"weights"):
    path = tmp_path / "src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# ------------------------------------------------------------------------------ registration

def test_register_file_copies_read_only_with_sha256(client, tmp_path, tracking_dir):
    src = make_file(tmp_path)
    mv = tracker.register_model(str(src), "m", tags={"team": "ml", "n": 3}, description="first")
    assert (mv.name, mv.version, mv.current_stage, mv.aliases) == ("m", 1, "None", [])
    assert mv.tags == {"team": "ml", "n": "3"} and mv.description == "first"
    assert mv.run_id is None and mv.run_link is None and mv.source == str(src)
    stored = tracking_dir / "registry" / "m" / "1" / "model.bin"
    assert mv.storage_path == str(stored) and stored.read_bytes() == b"weights"
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert os.access(stored.parent, os.W_OK)  # directories stay writable: rmtree and tmp_path cleanup work
    src.write_bytes(b"edited later")  # editing the source never changes a registered model
    assert client.resolve_models_uri("models:/m/1").read_bytes() == b"weights"
    assert client.get_model_lineage("m", 1).files == {"model.bin": mv_sha(b"weights")}
    assert client.get_model_version("m", "1") == mv  # versions accepted as strings too


def mv_sha(data: bytes) -> str:
    import hashlib
    return hashlib.sha256(data).hexdigest()


def test_register_directory_and_contiguous_versions(client, tmp_path):
    d = tmp_path / "dir_model"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("a")
    (d / "sub" / "b.txt").write_text("b")
    versions = [client.register_model(d, "dm").version for _ in range(3)]
    assert versions == [1, 2, 3]
    path = client.resolve_models_uri("models:/dm/2")
    assert path.is_dir() and (path / "sub" / "b.txt").read_text() == "b"
    assert client.get_model_lineage("dm", 2).files == {"a.txt": mv_sha(b"a"), "sub/b.txt": mv_sha(b"b")}
    assert client.get_registered_model("dm").version_count == 3


def test_log_model_registers_and_load_model_by_every_uri_form(client):
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with tracker.start_run() as run:
        tracker.log_param("C", 1.0)
        tracker.log_metric("acc", 0.75)
        info = tracker.sklearn.log_model(model, "model", registered_model_name="clf")
    assert info.registered_model_version == 1
    mv = client.get_model_version("clf", 1)
    assert mv.run_id == run.info.run_id and mv.run_link == "run" and mv.experiment == "Default"
    client.register_model(f"runs:/{run.info.run_id}/model", "clf")
    client.transition_model_version_stage("clf", 1, "Production")
    client.set_registered_model_alias("clf", "champion", 2)
    for uri in ("models:/clf/1", "models:/clf/production", "models:/clf/latest", "models:/clf@champion"):
        assert tracker.load_model(uri).predict([[3.0]])[0] == 1
        assert tracker.sklearn.load_model(uri).predict([[0.0]])[0] == 0
    lineage = client.get_model_lineage("clf", 2)
    assert lineage.params == {"C": "1.0"} and lineage.metrics == {"acc": 0.75}
    assert lineage.run_artifact_path == "model"


def test_bare_model_files_and_other_formats(client, tmp_path):
    import pickle

    import skops.io as sio
    from sklearn.tree import DecisionTreeClassifier
    model = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
    sio.dump(model, tmp_path / "tree.skops")
    (tmp_path / "tree.pkl").write_bytes(pickle.dumps(model))
    (tmp_path / "weights.onnx").write_bytes(b"\x08\x01onnx")
    tree = "sklearn.tree._tree.Tree"  # skops does not trust it: a crafted one reads outside its arrays
    client.register_model(tmp_path / "tree.skops", "skops-model")
    client.register_model(tmp_path / "tree.skops", "skops-model", trusted=[tree])
    client.register_model(tmp_path / "tree.pkl", "pkl-model")
    client.register_model(tmp_path / "tree.pkl", "pkl-model", trust_pickle=True)
    client.register_model(tmp_path / "weights.onnx", "onnx-model")
    with pytest.raises(ValueError, match=tree):
        tracker.load_model("models:/skops-model/1")
    assert tracker.load_model("models:/skops-model/1", trusted=[tree]).predict([[1]])[0] == 1
    assert tracker.load_model("models:/skops-model/2").predict([[1]])[0] == 1  # the registry's record
    with pytest.raises(ValueError, match="trust_pickle"):
        tracker.load_model("models:/pkl-model/1")
    assert tracker.load_model("models:/pkl-model/1", trust_pickle=True).predict([[1]])[0] == 1
    assert tracker.load_model("models:/pkl-model/2").predict([[1]])[0] == 1
    assert [(v.version, v.trusted_types, v.trust_pickle) for v in client.list_model_versions("pkl-model")] == \
        [(2, [], True), (1, [], False)]
    assert client.get_model_version("skops-model", 2).trusted_types == [tree]
    served = client.resolve_models_uri("models:/onnx-model/1")  # kept and served as files
    assert served.name == "weights.onnx" and served.read_bytes() == b"\x08\x01onnx"
    with pytest.raises(ValueError, match="not a model file"):
        tracker.load_model("models:/onnx-model/1")


def test_tampering_with_a_stored_file_makes_loading_fail(client, tmp_path):
    from sklearn.linear_model import LinearRegression
    d = tmp_path / "saved"
    tracker.sklearn.save_model(LinearRegression().fit([[0], [1]], [0, 1]), d)
    client.register_model(d, "lin")
    tracker.load_model("models:/lin/1")
    stored = client.resolve_models_uri("models:/lin/1")
    target = stored / "model.skops"
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes() + b"\0")
    with pytest.raises(tracker.ModelIntegrityError, match="model.skops has changed"):
        tracker.load_model("models:/lin/1")
    with pytest.raises(tracker.ModelIntegrityError):
        client.verify_model_version("lin", 1)
    target.unlink()
    with pytest.raises(tracker.ModelIntegrityError, match="missing"):
        client.resolve_models_uri("models:/lin/1")
    client.register_model(make_file(tmp_path), "plain")
    (client.resolve_models_uri("models:/plain/1").parent / "extra.py").write_text("import os")
    with pytest.raises(tracker.ModelIntegrityError, match="extra.py was added"):
        client.resolve_models_uri("models:/plain/1")


def test_registering_a_tampered_model_directory_is_refused(client, tmp_path):
    from sklearn.linear_model import LinearRegression
    d = tmp_path / "saved"
    tracker.sklearn.save_model(LinearRegression().fit([[0], [1]], [0, 1]), d)
    (d / "model.skops").write_bytes(b"not the model")
    with pytest.raises(tracker.ModelIntegrityError, match="refusing to register"):
        client.register_model(d, "lin")
    with pytest.raises(ModelNotFoundError):
        client.get_registered_model("lin")


# ---------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kind", ["missing", "empty file", "empty dir", "missing run"])
def test_bad_source_uses_up_no_version_number(client, tmp_path, tracking_dir, kind):
    client.register_model(make_file(tmp_path), "m")
    bad = {"missing": tmp_path / "nope.bin", "empty file": tmp_path / "empty.bin",
           "empty dir": tmp_path / "empty_dir", "missing run": "runs:/" + "0" * 32 + "/model"}[kind]
    if kind == "empty file":
        bad.write_bytes(b"")
    if kind == "empty dir":
        (bad / "nested").mkdir(parents=True)  # directories but no file: still empty
    token = client.registry_changed_token()
    with pytest.raises((FileNotFoundError, ValueError)) as err:
        client.register_model(bad, "m")
    assert "nope.bin" in str(err.value) or "empty" in str(err.value) or "0000" in str(err.value)
    assert client.registry_changed_token() == token  # nothing changed
    assert client.register_model(make_file(tmp_path), "m").version == 2
    assert not list((tracking_dir / "registry" / ".tmp").iterdir())  # no temp copy left behind


def test_failed_copy_uses_up_no_number_and_leaves_nothing(client, tmp_path, tracking_dir, monkeypatch):
    from tracker.registry import storage
    client.register_model(make_file(tmp_path), "m")
    d = tmp_path / "d"
    d.mkdir()
    (d / "a").write_text("a")
    (d / "b").write_text("b")
    real = storage._copy_hash
    calls = []

    def failing(src, dst, *rest):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(src, dst, *rest)

    monkeypatch.setattr(storage, "_copy_hash", failing)
    with pytest.raises(OSError, match="No space"):
        client.register_model(d, "m")
    monkeypatch.setattr(storage, "_copy_hash", real)
    assert not list((tracking_dir / "registry" / ".tmp").iterdir())
    assert client.register_model(d, "m").version == 2
    assert sorted(p.name for p in (tracking_dir / "registry" / "m").iterdir()) == ["1", "2"]


@pytest.mark.parametrize("name", ["", "   ", "a/b", "x" * 256, "tab\there", "nl\n", "nul\x00", None, 3])
def test_invalid_names_raise_value_error(client, tmp_path, name):
    with pytest.raises(ValueError):
        client.register_model(make_file(tmp_path), name)
    with pytest.raises(ValueError):
        client.create_registered_model(name)
    assert client.search_registered_models() == []


def test_odd_but_valid_names_get_safe_directories(client, tmp_path, tracking_dir):
    for name in ["..", ".hidden", "Model", "model", "with space & ü", "x" * 255]:
        mv = client.register_model(make_file(tmp_path), name)
        stored = os.path.realpath(mv.storage_path)
        assert stored.startswith(str(tracking_dir / "registry") + os.sep)
        assert client.resolve_models_uri(f"models:/{name}/1").read_bytes() == b"weights"
    dirs = [p.name for p in (tracking_dir / "registry").iterdir() if p.name != ".tmp"]
    assert len({d.lower() for d in dirs}) == 6  # "Model" and "model" do not share one on macOS/Windows


def test_unknown_things_list_the_valid_choices(client, tmp_path):
    client.register_model(make_file(tmp_path), "m")
    client.register_model(make_file(tmp_path), "m")
    client.set_registered_model_alias("m", "best", 1)
    with pytest.raises(ModelNotFoundError, match="registered models: m"):
        client.get_registered_model("mm")
    with pytest.raises(ModelVersionNotFoundError, match="versions: 1, 2"):
        client.get_model_version("m", 9)
    with pytest.raises(ValueError, match="None, Staging, Production, Archived"):
        client.transition_model_version_stage("m", 1, "prod")
    with pytest.raises(AliasNotFoundError, match=r"aliases: best->v1"):
        client.get_model_version_by_alias("m", "champion")
    with pytest.raises(ModelVersionNotFoundError, match=r"Staging.*None \(v2\)"):
        client.resolve_models_uri("models:/m/Staging")
    with pytest.raises(ValueError, match="neither a version number"):
        client.resolve_models_uri("models:/m/prod")
    with pytest.raises(ValueError, match="models:/<name>@<alias>"):
        client.resolve_models_uri("models:/m")
    for bad in (0, -1, "x", 1.5):
        with pytest.raises(ValueError):
            client.get_model_version("m", bad)


# ------------------------------------------------------------------------- models and versions

def test_create_get_search_rename_models(client, tmp_path):
    client.create_registered_model("alpha", tags={"team": "fraud"}, description="d")
    with pytest.raises(ModelExistsError):
        client.create_registered_model("alpha")
    client.register_model(make_file(tmp_path), "beta")
    client.set_registered_model_tag("beta", "team", "risk")
    assert [m.name for m in client.search_registered_models()] == ["alpha", "beta"]
    assert [m.name for m in client.search_registered_models("tags.team = 'risk'")] == ["beta"]
    assert [m.name for m in client.search_registered_models("name LIKE 'al%'")] == ["alpha"]
    assert [m.name for m in client.search_registered_models("name LIKE 'AL%'")] == []
    assert [m.name for m in client.search_registered_models("name ILIKE 'AL%'")] == ["alpha"]
    assert [m.name for m in client.search_registered_models(order_by=["name DESC"], max_results=1)] == ["beta"]
    alpha = client.get_registered_model("alpha")
    assert alpha.latest_version is None and alpha.version_count == 0 and alpha.description == "d"
    client.rename_registered_model("beta", "gamma")
    assert client.get_model_version("gamma", 1).name == "gamma"
    assert client.resolve_models_uri("models:/gamma/1").read_bytes() == b"weights"
    with pytest.raises(ModelNotFoundError):
        client.get_registered_model("beta")
    with pytest.raises(ModelExistsError):
        client.rename_registered_model("gamma", "alpha")
    client.update_registered_model("alpha", "new description")
    assert client.get_registered_model("alpha").description == "new description"
    client.delete_registered_model_tag("gamma", "team")
    assert client.get_registered_model("gamma").tags == {}
    actions = [(e.action, e.from_value, e.to_value) for e in client.get_model_history("gamma")]
    assert ("rename", "beta", "gamma") in actions and ("tag_set", None, "risk") in actions


def test_search_model_versions(client, tmp_path):
    for name in ("a", "b"):
        for _ in range(3):
            client.register_model(make_file(tmp_path), name)
    client.set_model_version_tag("a", 2, "candidate", "yes")
    client.transition_model_version_stage("b", 3, "staging")
    assert [(v.name, v.version) for v in client.search_model_versions("name='a'")] == [("a", 3), ("a", 2), ("a", 1)]
    assert [(v.name, v.version) for v in client.search_model_versions("tags.candidate = 'yes'")] == [("a", 2)]
    assert [(v.name, v.version) for v in client.search_model_versions("current_stage = 'STAGING'")] == [("b", 3)]
    assert [v.version for v in client.search_model_versions("name = 'b' AND version >= 2",
                                                            order_by="version ASC")] == [2, 3]
    assert len(client.search_model_versions("name IN ('a', 'b')")) == 6
    assert len(client.search_model_versions(max_results=4)) == 4
    assert len(client.search_model_versions("name = 'a' OR name = 'b'")) == 6
    for bad in ("nonsense", "name ~ 'a'", "colour = 'red'", "version = 'x'"):
        with pytest.raises(ValueError):
            client.search_model_versions(bad)


def test_update_tags_and_soft_deletes(client, tmp_path):
    for _ in range(3):
        client.register_model(make_file(tmp_path), "m")
    client.update_model_version("m", 2, description="better")
    assert client.get_model_version("m", 2).description == "better"
    client.set_model_version_tag("m", 2, "k", "v")
    client.set_registered_model_alias("m", "best", 2)
    client.delete_model_version("m", 2)
    assert [v.version for v in client.list_model_versions("m")] == [3, 1]
    with pytest.raises(ModelVersionNotFoundError, match="deleted"):
        client.get_model_version("m", 2)
    with pytest.raises(AliasNotFoundError):  # aliases of a deleted version go with it
        client.resolve_models_uri("models:/m@best")
    restored = client.restore_model_version("m", 2)
    assert restored.tags == {"k": "v"} and restored.description == "better" and restored.aliases == []
    assert client.register_model(make_file(tmp_path), "m").version == 4  # numbers are never reused
    client.delete_registered_model("m")
    assert client.search_registered_models() == []
    assert client.search_model_versions() == []
    assert [m.name for m in client.search_registered_models(include_deleted=True)] == ["m"]
    with pytest.raises(ModelNotFoundError, match="deleted"):
        client.resolve_models_uri("models:/m/1")
    with pytest.raises(ModelNotFoundError, match="deleted"):
        client.register_model(make_file(tmp_path), "m")
    with pytest.raises(ModelExistsError, match="deleted"):
        client.create_registered_model("m")
    client.restore_registered_model("m")
    assert [v.version for v in client.list_model_versions("m")] == [4, 3, 2, 1]
    actions = [(e.version, e.action) for e in client.get_model_history("m")]
    assert (2, "description") in actions and (2, "delete") in actions and (2, "restore") in actions
    assert (2, "alias_delete") in actions and (None, "delete") in actions and (None, "restore") in actions


# ---------------------------------------------------------------------------------- stages

def test_stages_case_insensitive_and_archive_existing(client, tmp_path):
    for _ in range(4):
        client.register_model(make_file(tmp_path), "m")
    assert client.transition_model_version_stage("m", 1, "PRODUCTION").current_stage == "Production"
    client.transition_model_version_stage("m", 2, "production")
    client.transition_model_version_stage("m", 3, "Staging")
    mv = client.transition_model_version_stage("m", 4, "pRoDuCtIoN", archive_existing_versions=True,
                                               comment="ship it")
    assert mv.current_stage == "Production"
    stages = {v.version: v.current_stage for v in client.list_model_versions("m")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Staging", 4: "Production"}
    history = [(e.version, e.from_value, e.to_value, e.comment) for e in client.get_model_history("m")
               if e.action == "stage"]
    assert history[-3:] == [(4, "None", "Production", "ship it"),
                            (1, "Production", "Archived", "archived: version 4 moved to Production"),
                            (2, "Production", "Archived", "archived: version 4 moved to Production")]
    assert len({e.timestamp for e in client.get_model_history("m")[-3:]}) == 1  # one transaction
    model = client.get_registered_model("m")
    assert [(v.current_stage, v.version) for v in model.latest_versions] == [
        ("Staging", 3), ("Production", 4), ("Archived", 2)]
    assert model.stage_versions == {"Staging": [3], "Production": [4], "Archived": [2, 1]}
    assert [v.version for v in client.get_latest_versions("m", ["production", "staging"])] == [3, 4]
    with pytest.raises(ValueError, match="only allowed"):
        client.transition_model_version_stage("m", 1, "Archived", archive_existing_versions=True)
    assert set(STAGES) == {"None", "Staging", "Production", "Archived"}


# ----------------------------------------------------------------------------------- aliases

def test_aliases_rules_move_delete_and_history(client, tmp_path):
    for _ in range(2):
        client.register_model(make_file(tmp_path), "m")
    client.set_registered_model_alias("m", "champion", 1)
    client.set_registered_model_alias("m", "champion", 2)  # moves
    client.set_registered_model_alias("m", "challenger-1", 1)
    assert client.get_model_version_by_alias("m", "champion").version == 2
    assert client.get_model_version("m", 2).aliases == ["champion"]
    assert client.get_registered_model("m").aliases == {"challenger-1": 1, "champion": 2}
    for bad in ("latest", "LATEST", "v1", "V12", "has space", "a/b", "", "x" * 256):
        with pytest.raises(ValueError):
            client.set_registered_model_alias("m", bad, 1)
    assert client.set_registered_model_alias("m", "v1x", 1) is None  # not reserved
    client.delete_registered_model_alias("m", "champion")
    with pytest.raises(AliasNotFoundError, match="challenger-1->v1"):
        client.delete_registered_model_alias("m", "champion")
    moves = [(e.action, e.key, e.from_value, e.to_value) for e in client.get_model_history("m")
             if e.action.startswith("alias")]
    assert moves[:2] == [("alias_set", "champion", None, "1"), ("alias_set", "champion", "1", "2")]
    assert moves[-1] == ("alias_delete", "champion", "2", None)


# ---------------------------------------------------------------------- history, changes, misc

def test_history_of_one_version_and_change_token(client, tmp_path):
    token0 = client.registry_changed_token()
    client.register_model(make_file(tmp_path), "m")
    token1 = client.registry_changed_token()
    assert token1 != token0
    assert client.registry_changed_token() == token1  # stable while nothing changes
    client.register_model(make_file(tmp_path), "m")
    client.transition_model_version_stage("m", 2, "staging")
    other = Registry(client.tracking_dir)  # another connection sees the same token
    assert other.registry_changed_token() == client.registry_changed_token()
    other.set_model_version_tag("m", 1, "k", "v")
    assert client.registry_changed_token() != token1
    other.close()
    entries = client.get_model_history("m", version=2)
    assert [(e.action, e.to_value) for e in entries] == [("register", "2"), ("stage", "Staging")]
    assert all(e.user and e.timestamp > 0 and e.name == "m" for e in entries)
    assert client.get_model_history("m")[0].action == "create_model"


def test_registry_url_override(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_REGISTRY_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    client = tracker.Client()
    client.register_model(make_file(tmp_path), "m")
    assert (tmp_path / "elsewhere.db").is_file()
    assert not (client.tracking_dir / "registry.db").exists()
    assert client.resolve_models_uri("models:/m/1").read_bytes() == b"weights"


def test_a_relative_source_is_recorded_as_an_absolute_path(client, tmp_path, monkeypatch):
    make_file(tmp_path)
    monkeypatch.chdir(tmp_path / "src")
    assert client.register_model("model.bin", "m").source == str(tmp_path / "src" / "model.bin")


def test_runs_uri_is_resolved_in_the_clients_own_directory(tmp_path):
    """A Client for another directory finds runs:/ sources there, not in the global tracking dir."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    other = tmp_path / "elsewhere"
    tracker.set_tracking_dir(other)
    with tracker.start_run() as run:
        tracker.sklearn.log_model(LogisticRegression().fit(np.eye(2), [0, 1]), "clf")
    tracker.set_tracking_dir(tmp_path / "runs")
    version = tracker.Client(other).register_model(f"runs:/{run.info.run_id}/clf", "m")
    assert version.run_id == run.info.run_id

"""What may run when a model is loaded: the caller's arguments and the registry's record, never the folder.

Every crafted file here would create ``marker`` if loaded (see model_payloads.py); the positive
controls load one with explicit trust and see the marker appear, so its absence means something.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from model_payloads import crafted_folder, pickle_opening, skops_opening

import tracker
import tracker.sklearn
from tracker.model_trust import REVIEWED_SKOPS_TYPES, UntrustedModelError
from tracker.registry import Registry

LOADERS = {"tracker.load_model": tracker.load_model, "tracker.sklearn.load_model": tracker.sklearn.load_model}


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "payload-ran"


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_a_pickle_whose_manifest_says_pickle_with_true_hashes_is_refused(loader, tmp_path, marker):
    folder = crafted_folder(tmp_path / "m", "model.pkl", pickle_opening(marker),
                            {"serialization_format": "pickle", "skops_trusted_types": []})
    with pytest.raises(UntrustedModelError, match="trust_pickle=True") as info:
        loader(folder)
    assert info.value.pickle and not marker.exists()
    mv = tracker.register_model(folder, "crafted")
    with pytest.raises(tracker.UntrustedModelError, match="trust_pickle=True"):  # what scripts catch
        loader(mv.uri)
    assert not marker.exists()
    loader(mv.uri, trust_pickle=True)  # the caller's explicit decision: now it runs
    assert marker.exists()


@pytest.mark.parametrize("how, bad_type", [("open", "builtins.open"), ("eval", "builtins.eval"),
                                           ("numpy", "numpy.testing._private.utils.runstring")])
def test_types_listed_as_trusted_by_the_manifest_are_not_trusted(how, bad_type, tmp_path, marker):
    folder = crafted_folder(tmp_path / "m", "model.skops", skops_opening(marker, how),
                            {"serialization_format": "skops", "skops_trusted_types": [bad_type],
                             "skops_untrusted_types": [bad_type]})
    with pytest.raises(UntrustedModelError) as info:
        tracker.sklearn.load_model(folder)
    assert info.value.untrusted_types == (bad_type,)
    assert f"trusted=[{bad_type!r}]" in str(info.value)  # tells the user how to decide
    mv = tracker.register_model(folder, "crafted")
    with pytest.raises(UntrustedModelError):
        tracker.load_model(mv.uri)
    assert not marker.exists()
    tracker.load_model(folder, trusted=[bad_type])
    assert marker.exists()


def test_a_bare_skops_file_gets_no_trust_for_numpy_or_sklearn_names(tmp_path, marker):
    bare = tmp_path / "model.skops"
    bare.write_bytes(skops_opening(marker, "numpy"))
    with pytest.raises(UntrustedModelError, match="numpy.testing._private.utils.runstring"):
        tracker.load_model(bare)
    mv = tracker.register_model(bare, "bare")
    with pytest.raises(UntrustedModelError):
        tracker.load_model(f"models:/{mv.name}/latest")
    assert not marker.exists()


def test_the_registry_record_trusts_a_version_and_only_that_version(tmp_path, marker):
    from sklearn.tree import DecisionTreeClassifier
    model = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
    folder = tmp_path / "tree"
    tracker.sklearn.save_model(model, folder)
    manifest = json.loads((folder / "tracker-model.json").read_text())
    tree = "sklearn.tree._tree.Tree"
    assert manifest["skops_untrusted_types"] == [tree]  # recorded as information only
    client = tracker.Client()
    plain = client.register_model(folder, "tree")
    trusted = client.register_model(folder, "tree", trusted=[tree])
    assert (plain.trusted_types, trusted.trusted_types) == ([], [tree])
    with pytest.raises(UntrustedModelError, match=tree):
        tracker.load_model(plain.uri)
    assert tracker.load_model(trusted.uri).predict([[1]])[0] == 1
    client.set_registered_model_alias("tree", "champion", 2)
    assert tracker.sklearn.load_model("models:/tree@champion").predict([[0]])[0] == 0
    assert tracker.load_model(plain.uri, trusted=[tree]).predict([[1]])[0] == 1  # the caller's own decision
    assert client.get_model_version("tree", 2).trusted_types == [tree]
    assert [(e.version, e.to_value) for e in client.get_model_history("tree") if e.action == "trust"] == [(2, tree)]
    # The record trusts what it names, nothing else: a payload registered with it still cannot run.
    payload = crafted_folder(tmp_path / "evil", "model.skops", skops_opening(marker, "eval"),
                             {"serialization_format": "skops", "skops_trusted_types": ["builtins.eval"]})
    evil = client.register_model(payload, "evil", trusted=[tree], trust_pickle=True)
    with pytest.raises(UntrustedModelError, match="builtins.eval"):
        tracker.load_model(evil.uri)
    assert not marker.exists()


def test_reviewed_distance_metrics_load_without_trust_and_others_do_not(tmp_path):
    import skops.io as sio
    from sklearn.metrics import DistanceMetric
    from sklearn.neighbors import KNeighborsClassifier
    manhattan = tmp_path / "manhattan.skops"
    sio.dump(DistanceMetric.get_metric("manhattan"), manhattan)
    assert sio.get_untrusted_types(file=manhattan) == ["sklearn.metrics._dist_metrics.ManhattanDistance64"]
    loaded = tracker.load_model(manhattan)
    assert loaded.pairwise(np.array([[0.0, 0.0], [1.0, 2.0]]))[0, 1] == 3.0
    mahalanobis = tmp_path / "mahalanobis.skops"  # indexes its saved matrix: not reviewed as safe
    sio.dump(DistanceMetric.get_metric("mahalanobis", V=np.eye(2)), mahalanobis)
    with pytest.raises(UntrustedModelError, match="MahalanobisDistance64"):
        tracker.load_model(mahalanobis)
    knn = KNeighborsClassifier(n_neighbors=1, algorithm="kd_tree").fit([[0.0], [1.0]], [0, 1])
    tracker.sklearn.save_model(knn, tmp_path / "knn")
    with pytest.raises(UntrustedModelError) as info:
        tracker.load_model(tmp_path / "knn")
    assert info.value.untrusted_types == ("sklearn.neighbors._kd_tree.KDTree",)  # the metric is reviewed
    restored = tracker.load_model(tmp_path / "knn", trusted=["sklearn.neighbors._kd_tree.KDTree"])
    assert restored.predict([[0.9]])[0] == 1
    assert "sklearn.tree._tree.Tree" not in REVIEWED_SKOPS_TYPES


def test_trusted_accepts_types_and_names_and_refuses_anything_else(tmp_path):
    from sklearn.tree import DecisionTreeRegressor
    from sklearn.tree._tree import Tree
    tracker.sklearn.save_model(DecisionTreeRegressor().fit([[0], [1]], [0, 1]), tmp_path / "t")
    assert tracker.load_model(tmp_path / "t", trusted=Tree).predict([[1]])[0] == 1
    for bad in (["not a type name"], [3], "Tree"):
        with pytest.raises(ValueError, match="not a type"):
            tracker.load_model(tmp_path / "t", trusted=bad)
    with pytest.raises(ValueError, match="not a type"):
        tracker.register_model(tmp_path / "t", "t", trusted=["os.system; rm"])
    assert tracker.Client().search_registered_models() == []  # refused before anything was copied


def test_a_registry_from_before_trust_records_opens_and_trusts_nothing(tmp_path, tracking_dir):
    src = tmp_path / "w.pkl"
    src.write_bytes(b"\x80\x04K\x07.")  # pickle of 7
    first = Registry(tracking_dir)
    first.register_model(src, "old")
    first.close()
    with closing(sqlite3.connect(tracking_dir / "registry.db")) as db, db:  # as a schema-1 tracker left it
        db.execute("DROP TABLE model_version_trust")
        db.execute("UPDATE registry_schema SET value = '1' WHERE key = 'version'")
    registry = Registry(tracking_dir)
    try:
        assert registry.get_model_version("old", 1).trust_pickle is False
        with pytest.raises(UntrustedModelError):
            tracker.sklearn.load_located(*registry.locate_models_uri("models:/old/1"))
        mv = registry.register_model(src, "old", trust_pickle=True)
        path, trust = registry.locate_models_uri(mv.uri)
        assert trust.pickle and tracker.sklearn.load_located(path, trust) == 7
    finally:
        registry.close()
    with closing(sqlite3.connect(tracking_dir / "registry.db")) as db:
        assert db.execute("SELECT value FROM registry_schema WHERE key = 'version'").fetchone() == ("2",)


def test_a_manifest_that_is_not_utf8_is_the_folders_fault_not_the_registrys(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.skops").write_bytes(b"x")
    (folder / "tracker-model.json").write_bytes(b'{"flavor": "sklearn\xff"}')
    with pytest.raises(ValueError, match="not a manifest") as info:
        tracker.register_model(folder, "m")
    assert "registry database" not in str(info.value)


def test_log_model_records_the_skops_types_the_script_trusts_with_the_registered_version(tracking_dir):
    from sklearn.ensemble import RandomForestClassifier
    X, y = [[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0]
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    with tracker.start_run():
        plain = tracker.sklearn.log_model(forest, "plain", registered_model_name="forest")
        trusted = tracker.sklearn.log_model(forest, "trusted", registered_model_name="forest",
                                            skops_trusted_types=["sklearn.tree._tree.Tree"])
    assert (plain.registered_model_version, trusted.registered_model_version) == (1, 2)
    with pytest.raises(UntrustedModelError, match="sklearn.tree._tree.Tree"):
        tracker.load_model("models:/forest/1")
    assert tracker.load_model("models:/forest/2").predict([[1, 0]]).tolist() == [1]
    with pytest.raises(UntrustedModelError):  # the run's copy carries no trust of its own
        tracker.load_model(trusted.model_uri)


def _crafted_code_model(folder: Path, marker: Path) -> Path:
    """A python_function folder as an attacker writes it: code that leaves ``marker``, and a manifest
    with the right sha256 that claims the code is trusted."""
    import hashlib
    folder.mkdir(parents=True)
    code = (f"open({str(marker)!r}, 'w').close()\n"
            "from tracker.models import set_model\nset_model(lambda model_input: model_input)\n")
    (folder / "model.py").write_text(code)
    manifest = {"format_version": 1, "flavor": "python_function", "trust_code": True, "trust_pickle": True,
                "flavors": {"python_function": {"model_code_path": "model.py", "trusted": True}},
                "files": {"model.py": hashlib.sha256(code.encode()).hexdigest()}}
    (folder / "tracker-model.json").write_text(json.dumps(manifest))
    return folder


def test_model_code_whose_manifest_claims_trust_is_refused(tmp_path, marker):
    import tracker.pyfunc
    from tracker.model_trust import needed_trust
    folder = _crafted_code_model(tmp_path / "m", marker)
    for load in (tracker.load_model, tracker.pyfunc.load_model):
        with pytest.raises(UntrustedModelError, match="trust_code=True") as info:
            load(folder)
        assert info.value.pickle
    with pytest.raises(ValueError, match="not a scikit-learn one"):
        tracker.sklearn.load_model(folder, trust_pickle=True)
    assert needed_trust(folder).pickle
    mv = tracker.register_model(folder, "crafted-code")
    with pytest.raises(UntrustedModelError):
        tracker.pyfunc.load_model(mv.uri)
    assert not marker.exists()
    trusted = tracker.register_model(folder, "crafted-code", trust_pickle=True)  # a person's recorded decision
    assert tracker.pyfunc.load_model(trusted.uri).predict([1]) == [1]
    assert marker.exists()


def test_a_manifest_cannot_choose_what_pyfunc_calls_on_a_sklearn_model(tmp_path):
    import tracker.pyfunc
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    path = tracker.sklearn.save_model(model, tmp_path / "m")
    manifest = json.loads((path / "tracker-model.json").read_text())
    manifest["flavors"]["python_function"]["predict_fn"] = "__reduce_ex__"
    (path / "tracker-model.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="predict_fn"):
        tracker.pyfunc.load_model(path)

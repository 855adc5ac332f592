"""``tracker models ...`` through ``add_models_parser``/``run_models_command``."""
from __future__ import annotations

import argparse
import json

import pytest

import tracker
from tracker.registry_cli import add_models_parser

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="tracker")
    add_models_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["models", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"weights")
    return path


def test_register_ls_show(capsys, source, tracking_dir):
    code, out, _ = cli(capsys, "register", str(source), "fraud", "--tag", "team=ml", "--description", "v1")
    assert code == 0 and "Registered 'fraud' version 1" in out and "no known run" in out
    cli(capsys, "register", str(source), "fraud")
    code, out, err = cli(capsys, "ls")
    assert code == 0 and out.splitlines()[0].split() == ["NAME", "LATEST", "STAGING", "PRODUCTION", "ALIASES",
                                                         "UPDATED"]
    assert out.splitlines()[1].split()[:5] == ["fraud", "2", "-", "-", "-"] and "1 model(s)" in err
    code, out, _ = cli(capsys, "show", "fraud")
    assert code == 0 and "2 version(s)" in out and out.count(str(source)) == 2
    code, out, _ = cli(capsys, "show", "fraud", "--json")
    doc = json.loads(out)
    assert [v["version"] for v in doc["versions"]] == [2, 1] and doc["versions"][1]["tags"] == {"team": "ml"}
    code, out, _ = cli(capsys, "ls", "--json", "--dir", str(tracking_dir))
    assert json.loads(out)[0]["latest_version"] == 2


def test_stage_alias_history_lineage(capsys, source):
    for _ in range(2):
        cli(capsys, "register", str(source), "m")
    cli(capsys, "stage", "m", "1", "production")
    code, out, _ = cli(capsys, "stage", "m", "2", "PRODUCTION", "--archive-existing", "--comment", "better")
    assert code == 0 and out.strip() == "m v2: None -> Production (archived v1)"
    code, out, _ = cli(capsys, "alias", "m", "champion", "2")
    assert code == 0 and out.strip() == "m@champion -> v2"
    code, out, _ = cli(capsys, "ls")
    assert out.splitlines()[1].split()[:5] == ["m", "2", "-", "2", "champion->v2"]
    code, out, _ = cli(capsys, "history", "m")
    lines = out.splitlines()
    assert "better" in lines[-3] and "archived: version 2 moved to Production" in lines[-2]
    assert lines[-1].split()[2:5] == ["2", "alias_set", "champion"]
    code, out, _ = cli(capsys, "history", "m", "--version", "1", "--json")
    assert [e["action"] for e in json.loads(out)] == ["register", "stage", "stage"]
    code, out, _ = cli(capsys, "lineage", "m", "1")
    assert code == 0 and "no known run" in out and "model.bin" in out
    code, out, _ = cli(capsys, "alias", "m", "champion", "--delete")
    assert code == 0 and "deleted" in out


def test_lineage_of_a_run(capsys, tmp_path):
    with tracker.start_run(experiment="e") as run:
        tracker.log_param("lr", 0.5)
        tracker.log_metric("acc", 0.9)
        tracker.log_text("weights", "model/w.txt")
    code, out, _ = cli(capsys, "register", f"runs:/{run.info.run_id}/model", "m")
    assert code == 0 and f"run {run.info.run_id}" in out
    code, out, _ = cli(capsys, "lineage", "m", "1", "--json")
    doc = json.loads(out)
    assert doc["run_id"] == run.info.run_id and doc["params"] == {"lr": "0.5"} and doc["metrics"] == {"acc": 0.9}
    code, out, _ = cli(capsys, "lineage", "m", "1")
    assert "lr = 0.5" in out and "acc = 0.9" in out and "experiment   e" in out


@pytest.mark.parametrize("argv, message", [
    (["show", "nope"], "registered models: m"),
    (["stage", "m", "1", "prod"], "None, Staging, Production, Archived"),
    (["stage", "m", "7", "staging"], "versions: 1"),
    (["alias", "m", "latest", "1"], "reserved"),
    (["alias", "m", "x"], "VERSION"),
    (["register", "/does/not/exist", "m"], "nothing at"),
    (["register", "SOURCE", "a/b"], "must not contain '/'"),
    (["lineage", "m", "x"], "positive integer"),
])
def test_errors_are_clear_and_change_nothing(capsys, source, argv, message):
    cli(capsys, "register", str(source), "m")
    before = tracker.Client().registry_changed_token()
    argv = [str(source) if a == "SOURCE" else a for a in argv]
    code, out, err = cli(capsys, *argv)
    assert code == 2 and message in err and err.startswith("tracker: error: ")
    assert tracker.Client().registry_changed_token() == before


def test_register_records_the_trust_given_on_the_command_line(capsys, tmp_path, tracking_dir):
    from sklearn.tree import DecisionTreeClassifier
    tracker.sklearn.save_model(DecisionTreeClassifier().fit([[0], [1]], [0, 1]), tmp_path / "tree")
    tree = "sklearn.tree._tree.Tree"
    code, out, _ = cli(capsys, "register", str(tmp_path / "tree"), "tree")
    assert code == 0 and "trusted" not in out
    code, out, _ = cli(capsys, "register", str(tmp_path / "tree"), "tree", "--trust", tree)
    assert code == 0 and f"trusted      {tree}" in out
    with pytest.raises(ValueError, match=tree):
        tracker.load_model("models:/tree/1")
    assert tracker.load_model("models:/tree/2").predict([[1]])[0] == 1
    code, out, _ = cli(capsys, "show", "tree")
    lines = out.splitlines()
    assert "TRUSTED" in lines[-3].split()
    assert [line.split()[0] for line in lines[-2:]] == ["2", "1"]
    assert tree in lines[-2] and tree not in lines[-1]
    code, out, _ = cli(capsys, "history", "tree", "--version", "2")
    assert "trust" in out and tree in out
    code, _, err = cli(capsys, "register", str(tmp_path / "tree"), "tree", "--trust", "not a type")
    assert code == 2 and "not a type" in err

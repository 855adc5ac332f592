"""A damaged registry.db: every read says "the registry database ... is damaged", nothing else.

SQLite keeps no checksums, so a flipped byte can also change a value silently (a name, a hash);
such a registry still reads. What must never happen is another exception (UnicodeDecodeError,
JSONDecodeError, sqlite3 errors) reaching the user, the CLI or the app.
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.registry import RegistryDamagedError, RegistryNotFoundError
from tracker.registry.registry import Registry
from tracker.registry_cli import add_models_parser

DESCRIPTION = "modèle de détection, première version"  # non-ASCII: a flipped byte breaks its UTF-8


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A registry with models, versions, tags, aliases, stages, history, lineage and trust records."""
    root = tmp_path_factory.mktemp("pristine")
    registry = Registry(root)
    try:
        for m in range(3):
            for v in range(3):
                src = root.parent / f"src-{m}-{v}.bin"
                src.write_bytes(f"weights {m} {v} é".encode() * 20)
                registry.register_model(src, f"modèle-{m}", tags={"équipe": "ml ü"}, description=DESCRIPTION,
                                        trusted=["sklearn.tree._tree.Tree"] if v == 1 else None)
            registry.set_registered_model_alias(f"modèle-{m}", "champion", 2)
            registry.transition_model_version_stage(f"modèle-{m}", 1, "Production")
    finally:
        registry.close()  # the last connection checkpoints the WAL into registry.db
    assert not (root / "registry.db-wal").exists()
    return root


def read_everything(root: Path) -> None:
    """What the app, the CLI and load_model read, plus one write."""
    registry = Registry(root)
    try:
        registry.registry_changed_token()
        for model in registry.search_registered_models():
            for mv in registry.list_model_versions(model.name):
                registry.get_model_lineage(model.name, mv.version)
            registry.get_model_history(model.name)
            registry.locate_models_uri(f"models:/{model.name}/latest", verify=False)
            registry.search_model_versions(f"name = '{model.name}'")
        registry.transition_model_version_stage("modèle-0", 2, "Staging")
    except RegistryNotFoundError:
        pass  # a flipped byte in a name: "no model 'modèle-0'" is true of this registry
    finally:
        registry.close()


def damaged_copy(pristine: Path, target: Path, damage) -> Path:
    shutil.copytree(pristine, target)
    path = target / "registry.db"
    data = bytearray(path.read_bytes())
    damage(data)
    path.write_bytes(bytes(data))
    return target


def assert_only_damage_is_reported(root: Path) -> bool:
    """True if the damage was reported, False if the registry still reads; fails on anything else."""
    try:
        read_everything(root)
    except RegistryDamagedError as e:
        assert "registry database" in str(e) and "is damaged" in str(e) and "runs are not affected" in str(e)
        return True
    return False


def _in_text(marker: bytes, offset: int, value: int):
    def damage(data: bytearray) -> None:
        at = data.find(marker)
        assert at >= 0, marker
        data[at + offset] = value
    return damage


@pytest.mark.parametrize("damage", [
    _in_text(DESCRIPTION.encode(), DESCRIPTION.encode().index("è".encode()) + 1, 0x41),  # half a character
    _in_text("équipe".encode(), 0, 0xFF),
    _in_text(b'{"run_artifact_path"', 0, ord("x")),  # lineage JSON that no longer parses
    _in_text(b'["sklearn.tree._tree.Tree"]', 0, ord("(")),  # a trust record that no longer parses
    _in_text(b"SQLite format 3", 0, ord("X")),  # not a database at all
    lambda data: data.__delitem__(slice(len(data) // 2, None)),  # truncated
    lambda data: data.__setitem__(slice(4096, 8192), bytes(4096)),  # a zeroed page
], ids=["utf8-description", "utf8-tag-key", "lineage-json", "trust-json", "header", "truncated", "zero-page"])
def test_each_kind_of_damage_gives_the_registry_damaged_error(pristine, tmp_path, damage):
    root = damaged_copy(pristine, tmp_path / "copy", damage)
    assert assert_only_damage_is_reported(root)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2 ** 32 - 1), kind=st.sampled_from(["flip", "flip-many", "truncate", "zero-page"]))
def test_random_damage_never_raises_anything_but_registry_damaged(pristine, tmp_path, seed, kind):
    rng = random.Random(seed)

    def damage(data: bytearray) -> None:
        if kind == "flip":
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == "flip-many":
            for _ in range(20):
                data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        elif kind == "truncate":
            del data[rng.randrange(len(data)):]
        else:
            page = rng.randrange(len(data) // 4096)
            data[page * 4096:(page + 1) * 4096] = bytes(4096)
    target = tmp_path / f"copy-{seed}-{kind}"
    try:
        assert_only_damage_is_reported(damaged_copy(pristine, target, damage))
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_the_cli_prints_the_message_and_exits_2(pristine, tmp_path, capsys):
    root = damaged_copy(pristine, tmp_path / "copy", _in_text(DESCRIPTION.encode(), 2, 0xFF))
    parser = argparse.ArgumentParser(prog="tracker")
    add_models_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["models", "ls", "--dir", str(root)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "tracker: error: the registry database" in err and "is damaged" in err

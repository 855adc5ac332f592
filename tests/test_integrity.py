"""One module hashes files and checks trees against recorded digests (``tracker.integrity``);
the registry checks against its database, never against anything stored beside the model, and
``tracker.registry`` and ``tracker.models`` import each other in one direction only."""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracker
from tracker.integrity import (
    MANIFEST, ModelIntegrityError, hash_tree, sha256_file, tree_digest, verify_tree,
)

ROOT = Path(tracker.__file__).parent


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / "a.bin").write_bytes(b"a")
    (root / "sub" / "b.txt").write_bytes(b"b")
    return root


def test_hash_tree_lists_every_file_but_the_manifest(tree):
    (tree / MANIFEST).write_text("{}")
    assert hash_tree(tree) == {"a.bin": sha(b"a"), "sub/b.txt": sha(b"b")}
    assert hash_tree(tree / "a.bin") == {"a.bin": sha(b"a")}
    assert tree_digest({"a.bin": sha(b"a")}) == sha(b"a")
    assert tree_digest(hash_tree(tree)) == tree_digest(dict(reversed(list(hash_tree(tree).items()))))


def test_a_complete_record_reports_missing_changed_and_added_files(tree):
    recorded = hash_tree(tree)
    verify_tree(tree, recorded, complete=True)
    (tree / "a.bin").write_bytes(b"A")
    (tree / "sub" / "b.txt").unlink()
    (tree / "sub" / "extra.py").write_text("import os")
    with pytest.raises(ModelIntegrityError) as e:
        verify_tree(tree, recorded, "model 'm' version 1", complete=True)
    message = str(e.value)
    assert message.startswith("model 'm' version 1 at ")
    assert "a.bin has changed" in message and "sub/b.txt is missing" in message
    assert "sub/extra.py was added" in message


def test_a_manifest_check_looks_only_at_the_files_it_lists(tree):
    recorded = hash_tree(tree)
    (tree / "notes.txt").write_text("added later")
    verify_tree(tree, recorded, complete=False)
    (tree / "a.bin").write_bytes(b"")
    with pytest.raises(ModelIntegrityError, match="a.bin has changed"):
        verify_tree(tree, recorded, complete=False)


def test_recorded_paths_outside_the_tree_are_refused_not_read(tree, tmp_path):
    (tmp_path / "secret").write_bytes(b"s")
    with pytest.raises(ModelIntegrityError, match="is not a file of this model"):
        verify_tree(tree, {"../secret": sha(b"s")}, complete=False)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_in_place_of_a_file_is_reported_without_blocking(tree):
    recorded = hash_tree(tree)
    (tree / "a.bin").unlink()
    os.mkfifo(tree / "a.bin")
    with pytest.raises(ModelIntegrityError, match="not a regular file"):
        verify_tree(tree, recorded, complete=True)
    with pytest.raises(OSError):
        sha256_file(tree / "a.bin")


def test_a_rewritten_manifest_does_not_vouch_for_a_registered_version(tracking_dir, tmp_path):
    """Whoever can change a stored file can rewrite the manifest beside it with matching
    digests: the registry checks against the digests in its database."""
    from sklearn.linear_model import LinearRegression
    folder = tmp_path / "saved"
    tracker.sklearn.save_model(LinearRegression().fit([[0], [1]], [0, 1]), folder)
    client = tracker.Client()
    client.register_model(folder, "lin")
    stored = client.resolve_models_uri("models:/lin/1")
    model_file, manifest_file = stored / "model.skops", stored / MANIFEST
    for path in (model_file, manifest_file):
        os.chmod(path, 0o644)
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    manifest = json.loads(manifest_file.read_text())
    manifest["files"]["model.skops"] = sha256_file(model_file)  # consistent with itself
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="model.skops has changed"):
        tracker.load_model("models:/lin/1")
    with pytest.raises(ModelIntegrityError, match=f"{MANIFEST} has changed"):
        client.verify_model_version("lin", 1)


def _imports(path: Path) -> set[str]:
    """Modules a source file imports, resolved to absolute names (relative ones against its package)."""
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_registry_never_imports_tracker_models():
    """tracker.models loads models:/ URIs through the registry; the registry needs nothing from
    it (the manifest's name, hashing and checking live in tracker.integrity), so there is no cycle."""
    offenders = {str(p.relative_to(ROOT.parent)): sorted(m for m in _imports(p) if m.startswith("tracker.models"))
                 for p in sorted((ROOT / "registry").glob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}
    assert not {m for m in _imports(ROOT / "integrity.py") if m.startswith(("tracker.models", "tracker.registry"))}


@pytest.mark.parametrize("first", ["tracker.registry.registry", "tracker.models", "tracker.integrity",
                                   "tracker.registry.uri", "tracker.registry.storage"])
def test_each_side_imports_first_in_a_fresh_interpreter(first):
    script = (f"import importlib; importlib.import_module({first!r})\n"
              "import tracker.models, tracker.registry.registry, tracker.registry.lineage\n"
              "from tracker.models import MANIFEST, ModelIntegrityError, sha256_file, verify_files\n"
              "from tracker.registry.registry import Registry\n"
              "import tracker.integrity as i\n"
              "assert MANIFEST is i.MANIFEST and ModelIntegrityError is i.ModelIntegrityError\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr

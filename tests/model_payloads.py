"""Crafted model files that create a marker file if anything loads them: for the trust tests.

Each payload only opens ``marker`` for writing (no shell), so "the marker exists" means "code
from the file ran". The manifest helper writes what an attacker would: a ``tracker-model.json``
claiming the format and trust they want, with the correct sha256 of every file.
"""
from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path


def _json_node(value) -> dict:
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _empty_dict_node() -> dict:
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": {},
            "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": []}}


def skops_call(module: str, name: str, *args) -> bytes:
    """A .skops file whose loading calls ``module.name(*args)`` (skops' ConstructorFromReduceNode);
    ``{}`` among ``args`` stands for an empty dict."""
    content = [_empty_dict_node() if a == {} else _json_node(a) for a in args]
    schema = {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
              "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                          "content": content},
              "protocol": 2, "_skops_version": "0.16.0"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("schema.json", json.dumps(schema))
    return buffer.getvalue()


def skops_opening(marker: Path, how: str = "open") -> bytes:
    """A .skops payload that creates ``marker`` through ``builtins.open``, ``builtins.eval`` or a numpy
    function that runs a string (``numpy.testing._private.utils.runstring``)."""
    if how == "open":
        return skops_call("builtins", "open", str(marker), "w")
    if how == "eval":
        return skops_call("builtins", "eval", f"open({str(marker)!r}, 'w')")
    if how == "numpy":
        return skops_call("numpy.testing._private.utils", "runstring", f"open({str(marker)!r}, 'w')", {})
    raise ValueError(how)


class _Opens:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickle_opening(marker: Path) -> bytes:
    return pickle.dumps(_Opens(marker))


def crafted_folder(folder: Path, model_file: str, data: bytes, claims: dict) -> Path:
    """A model folder holding ``data`` as ``model_file`` and a manifest with ``claims`` and true hashes."""
    folder.mkdir(parents=True)
    (folder / model_file).write_bytes(data)
    manifest = {"format_version": 1, "flavor": "sklearn", "model_class": "sklearn.linear_model.LogisticRegression",
                "model_file": model_file, **claims, "files": {model_file: hashlib.sha256(data).hexdigest()}}
    (folder / "tracker-model.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder

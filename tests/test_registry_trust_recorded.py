"""The trust recorded at registration is exactly the one given, on SQLite and PostgreSQL: trusting
some skops types never trusts pickle as well."""
from __future__ import annotations

import pytest

import tracker

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")


@pytest.mark.parametrize(("trusted", "trust_pickle", "types", "pickle"), [
    (["sklearn.tree._tree.Tree"], False, ("sklearn.tree._tree.Tree",), False),
    (["sklearn.tree._tree.Tree"], True, ("sklearn.tree._tree.Tree",), True),
    (None, True, (), True),
    (None, False, (), False),
])
def test_the_recorded_trust_is_the_one_given(tmp_path, trusted, trust_pickle, types, pickle):
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    client = tracker.Client()
    version = client.register_model(src, "m", trusted=trusted, trust_pickle=trust_pickle)
    _, recorded = client.registry.locate_models_uri("models:/m/1")
    assert (recorded.types, recorded.pickle) == (types, pickle)
    again = client.get_model_version("m", version.version)
    assert (tuple(again.trusted_types), again.trust_pickle) == (types, pickle)

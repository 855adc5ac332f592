"""Names come back in the same order on PostgreSQL as on SQLite (by code point, "B" before "a"),
even in a database whose locale sorts otherwise (ICU en-US: a, A, b, B)."""
from __future__ import annotations

import uuid

import tracker


def test_versions_and_aliases_are_listed_by_code_point_whatever_the_databases_locale(
        postgres_server, monkeypatch, tmp_path):
    name = "t_icu_" + uuid.uuid4().hex[:8]
    postgres_server.sql(f"CREATE DATABASE {name} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' "
                        "TEMPLATE template0")
    monkeypatch.setenv("TRACKER_REGISTRY_URL", postgres_server.url(name))
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    client = tracker.Client()
    names = ["b", "B", "a", "A", "é", "Z"]
    for model in names:
        client.register_model(src, model)
    for alias in ("beta", "Beta", "alpha", "Alpha"):
        client.set_registered_model_alias("a", alias, 1)
    assert [v.name for v in client.search_model_versions()] == sorted(names)  # as SQLite's BINARY order
    assert list(client.get_registered_model("a").aliases) == ["Alpha", "Beta", "alpha", "beta"]
    client.registry.close()

"""The registry's tests run twice: on SQLite beside the runs, and on PostgreSQL (a team's registry).

A registry test module imports the fixture and applies it to every test::

    from registry_backends import registry_backend  # noqa: F401
    pytestmark = pytest.mark.usefixtures("registry_backend")

For the "postgresql" case ``$TRACKER_REGISTRY_URL`` names a new, empty database of the test's own
(``postgres_url`` in conftest.py), so everything the test does through ``tracker`` goes there,
child processes included. A test about SQLite's own file keeps only that case with
``@SQLITE_ONLY``.
"""
from __future__ import annotations

import pytest

BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = pytest.mark.parametrize("registry_backend", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize("registry_backend", ["postgresql"], indirect=True)


@pytest.fixture(params=BACKENDS)
def registry_backend(request, monkeypatch, tracking_dir) -> str:
    """"sqlite" or "postgresql": where this test's registry is."""
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("TRACKER_REGISTRY_URL", url)
    yield request.param
    if url is not None:
        close_registries(url)


def close_registries(url: str) -> None:
    """Close this process's cached registries on ``url``: the server's connections are not unlimited."""
    from tracker.registry import registry
    with registry._cache_lock:
        stale = [key for key in registry._cache if key[1] == url]
        closing = [registry._cache.pop(key) for key in stale]
    for one in closing:
        one.close()


def use_new_database(request, monkeypatch) -> None:
    """Point the test at another empty registry: on PostgreSQL a new database (on SQLite a new
    tracking directory is enough, so nothing changes)."""
    import os
    if os.environ.get("TRACKER_REGISTRY_URL", "").startswith("postgresql:"):
        monkeypatch.setenv("TRACKER_REGISTRY_URL", request.getfixturevalue("postgres_server").new_database())

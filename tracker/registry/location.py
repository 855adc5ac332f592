"""Where the registry's database is: ``set_registry_uri``, else ``$TRACKER_REGISTRY_URL``, else SQLite
beside the runs (``<tracking dir>/registry.db``).

MLflow's names and meaning: ``get_registry_uri()`` is the URI as set, and defaults to the tracking
URI (the registry of the runs directory). A registry URI is a database URL (``postgresql://user@host/db``
for a team, ``sqlite:///path/registry.db``) or a path or ``file:`` URI of a runs directory, which names
that directory's ``registry.db``. Kept free of peewee so ``import tracker`` stays cheap.
"""
from __future__ import annotations

import os
from urllib.parse import urlparse

URL_ENV = "TRACKER_REGISTRY_URL"
DB_FILE = "registry.db"
DATABASE_SCHEMES = ("postgresql", "postgres", "sqlite")

_registry_uri: str | None = None  # what set_registry_uri was given, as get_registry_uri returns it
_registry_url: str | None = None  # the database URL it names


def database_url(uri: str | os.PathLike) -> str:
    """The database URL a registry URI names; ``UnsupportedTrackingUri`` for a scheme the registry
    cannot use (a tracking server, Databricks)."""
    text = os.fspath(uri)
    if not isinstance(text, str) or not text:
        from ..exceptions import InvalidParameterValue
        raise InvalidParameterValue(f"registry URI must be a non-empty database URL or path, not {uri!r}")
    scheme = urlparse(text).scheme.lower()
    if scheme in DATABASE_SCHEMES or scheme.startswith("sqlite") or scheme.startswith("postgres"):
        return text
    from ..config import uri_to_dir
    from ..exceptions import UnsupportedTrackingUri
    try:
        folder = uri_to_dir(text)
    except UnsupportedTrackingUri:
        raise UnsupportedTrackingUri(
            f"registry URI {text!r}: the registry lives in a database; use postgresql://user@host/dbname "
            "(a team's shared registry), sqlite:///path/to/registry.db, or the path of a runs directory") from None
    return f"sqlite:///{folder / DB_FILE}"


def set_registry_uri(uri: str | os.PathLike | None) -> None:
    """Put this process's registry in ``uri`` (MLflow's ``set_registry_uri``); ``None`` goes back to
    ``$TRACKER_REGISTRY_URL``, else ``registry.db`` beside the runs. Checked now, connected at first use."""
    global _registry_uri, _registry_url
    if uri is None:
        _registry_uri = _registry_url = None
        return
    _registry_url = database_url(uri)
    _registry_uri = os.fspath(uri)


def get_registry_uri() -> str:
    """The registry URI as set, else ``$TRACKER_REGISTRY_URL``, else the tracking URI (as MLflow)."""
    if _registry_uri is not None:
        return _registry_uri
    env = os.environ.get(URL_ENV)
    if env:
        return env
    from ..config import get_tracking_uri
    return get_tracking_uri()


def registry_url() -> str | None:
    """The database URL the registry is in, or None for the default (``registry.db`` beside the runs)."""
    return _registry_url if _registry_url is not None else (os.environ.get(URL_ENV) or None)


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlparse(url).scheme.lower().startswith("postgres")

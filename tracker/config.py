"""Where runs go: ``set_tracking_uri``/``set_tracking_dir``, else ``$TRACKER_DIR``, else
``$MLFLOW_TRACKING_URI``, else ``./runs``.

This library writes a local directory: a tracking URI is a path or a ``file:`` URI. Server
URIs (``http:``, ``databricks``, ``sqlite:`` ...) are refused with a clear error.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

_tracking_dir: Path | None = None
_tracking_uri: str | None = None  # what set_tracking_uri was given, as get_tracking_uri returns it


def uri_to_dir(uri: str | os.PathLike) -> Path:
    """The local directory a tracking URI names; raises UnsupportedTrackingUri for anything else."""
    text = os.fspath(uri)
    if not isinstance(text, str) or not text:
        from .exceptions import InvalidParameterValue
        raise InvalidParameterValue(f"tracking URI must be a non-empty path or file: URI, not {uri!r}")
    if text.lower() in ("databricks", "databricks-uc", "uc"):  # MLflow's names for a remote workspace
        return _unsupported(text, "a Databricks workspace")
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):  # a plain path (C:\... on Windows)
        return Path(text).expanduser().absolute()
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return _unsupported(text, f"a file: URI on another host ({parsed.netloc!r})")
        # file:///abs, file:relative (as MLflow accepts for ./mlruns)
        return Path(unquote(parsed.path) or ".").expanduser().absolute()
    return _unsupported(text, f"the {scheme!r} scheme")


def _unsupported(uri: str, what: str) -> Path:
    from .exceptions import UnsupportedTrackingUri
    raise UnsupportedTrackingUri(
        f"tracking URI {uri!r} uses {what}: this library writes runs to a local directory and serves "
        "no tracking server or database; use a path or a file: URI (e.g. 'file:///home/me/runs' or './mlruns')")


def set_tracking_dir(path: str | os.PathLike | None) -> None:
    """Point logging and reading at ``path``; ``None`` goes back to ``$TRACKER_DIR`` or ``./runs``."""
    global _tracking_dir, _tracking_uri
    _tracking_dir = Path(path).expanduser().absolute() if path is not None else None
    _tracking_uri = None


def set_tracking_uri(uri: str | os.PathLike | None) -> None:
    """MLflow's name for ``set_tracking_dir``: a path or ``file:`` URI (checked now, not at first log)."""
    global _tracking_dir, _tracking_uri
    if uri is None:
        _tracking_dir = _tracking_uri = None
        return
    _tracking_dir = uri_to_dir(uri)
    _tracking_uri = os.fspath(uri)


def get_tracking_uri() -> str:
    """The tracking URI as set, else the ``file:`` URI of the directory runs go to."""
    if _tracking_uri is not None:
        return _tracking_uri
    return get_tracking_dir().as_uri()


def is_tracking_uri_set() -> bool:
    return _tracking_dir is not None or bool(os.environ.get("TRACKER_DIR") or os.environ.get("MLFLOW_TRACKING_URI"))


def get_tracking_dir() -> Path:
    if _tracking_dir is not None:
        return _tracking_dir
    env = os.environ.get("TRACKER_DIR")
    if env:
        return Path(env).expanduser().absolute()
    mlflow_uri = os.environ.get("MLFLOW_TRACKING_URI")
    if mlflow_uri:
        return uri_to_dir(mlflow_uri)
    return Path("runs").absolute()

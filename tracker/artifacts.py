"""Copying files into a run's artifact directory: never half-written, never outside the run.

Each file is written to a temp file beside its destination (``.<name>.<random>.part``) and
renamed into place. A writer killed meanwhile leaves the temp file: listings skip it, and
``tracker gc`` (``store.tempfiles``) or the next writer of the run removes it.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from . import store
from .entities import FileInfo
from .store.tempfiles import PART_SUFFIX, is_temp_name

NAME_MAX = 255  # bytes in one file name: Linux, macOS and Windows (in UTF-16 units there)
_TEMP_NAME_ROOM = 40  # bytes of the destination's name kept in its temp file's name


def _path_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_PATH_MAX")
    except (AttributeError, OSError, ValueError):
        return 260 if os.name == "nt" else 4096


def _check_length(dest: Path, artifacts_dir: Path) -> None:
    """Refuse a destination the file system cannot hold, saying which limit it breaks."""
    for part in dest.relative_to(artifacts_dir).parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise ValueError(f"artifact name {part[:40]!r}... is {size} bytes long; "
                             f"a file or folder name may have at most {NAME_MAX} bytes")
    size, limit = len(os.fsencode(os.path.abspath(dest))), _path_max(artifacts_dir.parent)
    if size >= limit:
        raise ValueError(f"artifact path {str(dest.relative_to(artifacts_dir))[:40]!r}... makes a path of {size} "
                         f"bytes inside the run; this file system allows at most {limit - 1}")


def _temp_beside(dest: Path) -> str:
    """A new temp file next to ``dest`` (its name short enough whatever ``dest``'s length)."""
    name = os.fsencode(dest.name)[:_TEMP_NAME_ROOM].decode("utf-8", "ignore")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=PART_SUFFIX, dir=dest.parent)
    os.close(fd)
    return tmp


def _atomically(dest: Path, artifacts_dir: Path, write: Callable[[str], None]) -> None:
    """``write(temp path)`` then rename over ``dest``; nothing is left behind if anything fails."""
    _check_length(dest, artifacts_dir)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_beside(dest)
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:  # a limit lower than the usual ones
            raise ValueError(f"artifact path {str(dest)!r} is too long for this file system") from None
        raise
    try:
        write(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_copy(src: Path, dest: Path, artifacts_dir: Path) -> None:
    _atomically(dest, artifacts_dir, lambda tmp: shutil.copy2(src, tmp))


def _write_bytes_atomic(dest: Path, data: bytes, artifacts_dir: Path) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
    _atomically(dest, artifacts_dir, write)


def log_artifact(artifacts_dir: Path, local_path: str | os.PathLike, artifact_path: str | None = None) -> Path:
    src = Path(local_path)
    if not src.exists():
        raise FileNotFoundError(f"log_artifact: {src} does not exist")
    target_dir = store.resolve_inside(artifacts_dir, artifact_path)
    if src.is_dir():
        return log_artifacts(artifacts_dir, src, f"{artifact_path}/{src.name}" if artifact_path else src.name)
    dest = target_dir / src.name
    _atomic_copy(src, dest, artifacts_dir)
    return dest


def log_artifacts(artifacts_dir: Path, local_dir: str | os.PathLike, artifact_path: str | None = None) -> Path:
    src = Path(local_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"log_artifacts: {src} is not a directory")
    target = store.resolve_inside(artifacts_dir, artifact_path)
    entries = sorted(src.rglob("*"))
    for path in entries:
        if path.is_file():
            _atomic_copy(path, target / path.relative_to(src), artifacts_dir)
    target.mkdir(parents=True, exist_ok=True)
    for path in entries:  # empty folders are part of what was logged, as in MLflow
        if path.is_dir() and not path.is_symlink():
            folder = target / path.relative_to(src)
            _check_length(folder, artifacts_dir)
            folder.mkdir(parents=True, exist_ok=True)
    return target


def artifact_file(artifacts_dir: Path, artifact_file: str) -> Path:
    """Where the file named ``artifact_file`` (a relative path ending in a file name) goes."""
    if not isinstance(artifact_file, str):
        raise TypeError(f"artifact_file must be a string such as 'notes.txt', got {type(artifact_file).__name__}")
    last = artifact_file.replace("\\", "/").rsplit("/", 1)[-1]
    if last in ("", ".", ".."):
        raise ValueError(f"artifact_file {artifact_file!r} must end with a file name, such as 'notes.txt' "
                         f"or 'reports/summary.txt'")
    return store.resolve_inside(artifacts_dir, artifact_file, "artifact_file")


def log_text(artifacts_dir: Path, text: str, name: str) -> Path:
    dest = artifact_file(artifacts_dir, name)
    _write_bytes_atomic(dest, text.encode("utf-8"), artifacts_dir)
    return dest


def log_dict(artifacts_dir: Path, obj: Any, name: str) -> Path:
    dest = artifact_file(artifacts_dir, name)
    if dest.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # optional: JSON is valid YAML, so without PyYAML the file still parses
            text = yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)
        except ImportError:
            text = json.dumps(obj, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(obj, indent=2, ensure_ascii=False)
    _write_bytes_atomic(dest, text.encode("utf-8"), artifacts_dir)
    return dest


def log_figure(artifacts_dir: Path, figure: Any, name: str) -> Path:
    dest = artifact_file(artifacts_dir, name)
    if not hasattr(figure, "savefig"):
        raise TypeError(f"log_figure expects a matplotlib Figure, got {type(figure).__name__}")
    fmt = dest.suffix[1:].lower() or "png"  # the temp file's name says nothing: name the format
    _atomically(dest, artifacts_dir, lambda tmp: figure.savefig(tmp, format=fmt))
    return dest


def list_artifacts(artifacts_dir: Path, path: str | None = None) -> list[FileInfo]:
    """The files and folders directly inside ``path`` of a run's artifacts, sorted by name,
    without the temp files of writes in progress (or of writers that died)."""
    folder = store.resolve_inside(artifacts_dir, path)
    out = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in sorted(entries, key=lambda e: e.name):
        if is_temp_name(entry.name):
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            size = None if is_dir else entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
        out.append(FileInfo(Path(entry.path).relative_to(artifacts_dir).as_posix(), is_dir, size))
    return out


def download_artifacts(artifact_uri: str | None = None, run_id: str | None = None, artifact_path: str | None = None,
                       dst_path: str | os.PathLike | None = None) -> str:
    """Copy a run's artifact (a file or a folder; the whole run's with neither ``artifact_path``
    nor a path in the URI) into ``dst_path`` (default: a new temp directory) and return its local
    path, as ``mlflow.artifacts.download_artifacts``. ``artifact_uri``: ``runs:/<run_id>/<path>``,
    a ``file:`` URI or a local path."""
    from urllib.parse import unquote, urlparse
    from .config import get_tracking_dir
    if (run_id, artifact_uri).count(None) != 1:
        raise ValueError("Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None and artifact_path is not None:
        raise ValueError("`artifact_path` cannot be specified if `artifact_uri` is specified")
    if artifact_uri is not None and artifact_uri.startswith("runs:/"):
        run_id, _, artifact_path = artifact_uri[len("runs:/"):].strip("/").partition("/")
    if run_id is not None:
        run_path = store.run_dir(get_tracking_dir(), run_id)
        if not isinstance(run_id, str) or not store.is_run_dir_name(run_id) or not run_path.is_dir():
            raise LookupError(f"Run '{run_id}' not found")
        base = run_path / store.ARTIFACTS_DIR
        src = store.resolve_inside(base, artifact_path or None)
        whole_run = src.resolve() == base.resolve()
    else:
        parsed = urlparse(artifact_uri)
        src = Path(unquote(parsed.path) if parsed.scheme == "file" else artifact_uri)
        whole_run = False
    if not src.exists() or is_temp_name(src.name):
        where = artifact_uri if artifact_uri is not None else f"runs:/{run_id}/{artifact_path or ''}"
        raise FileNotFoundError(f"no artifact at {where}")
    dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="tracker-artifacts-"))
    dst.mkdir(parents=True, exist_ok=True)
    target = dst if whole_run else dst / src.name
    def skip_temp(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if is_temp_name(name)]
    if src.is_dir():  # links are copied as links: a link in a run never copies what it points at
        shutil.copytree(src, target, symlinks=True, ignore=skip_temp, dirs_exist_ok=True)
    else:
        shutil.copy2(src, target, follow_symlinks=False)
    return str(target.absolute())

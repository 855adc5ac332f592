"""Copying files into a run's artifact directory: never half-written, never outside the run."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import store


def _atomic_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_bytes_atomic(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def log_artifact(artifacts_dir: Path, local_path: str | os.PathLike, artifact_path: str | None = None) -> Path:
    src = Path(local_path)
    if not src.exists():
        raise FileNotFoundError(f"log_artifact: {src} does not exist")
    target_dir = store.resolve_inside(artifacts_dir, artifact_path)
    if src.is_dir():
        return log_artifacts(artifacts_dir, src, f"{artifact_path}/{src.name}" if artifact_path else src.name)
    dest = target_dir / src.name
    _atomic_copy(src, dest)
    return dest


def log_artifacts(artifacts_dir: Path, local_dir: str | os.PathLike, artifact_path: str | None = None) -> Path:
    src = Path(local_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"log_artifacts: {src} is not a directory")
    target = store.resolve_inside(artifacts_dir, artifact_path)
    files = [p for p in sorted(src.rglob("*")) if p.is_file()]
    for path in files:
        _atomic_copy(path, target / path.relative_to(src))
    target.mkdir(parents=True, exist_ok=True)
    return target


def artifact_file(artifacts_dir: Path, artifact_file: str) -> Path:
    if not artifact_file or artifact_file.endswith("/"):
        raise ValueError(f"artifact_file {artifact_file!r} must name a file")
    return store.resolve_inside(artifacts_dir, artifact_file, "artifact_file")


def log_text(artifacts_dir: Path, text: str, name: str) -> Path:
    dest = artifact_file(artifacts_dir, name)
    _write_bytes_atomic(dest, text.encode("utf-8"))
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
    _write_bytes_atomic(dest, text.encode("utf-8"))
    return dest


def log_figure(artifacts_dir: Path, figure: Any, name: str) -> Path:
    dest = artifact_file(artifacts_dir, name)
    if not hasattr(figure, "savefig"):
        raise TypeError(f"log_figure expects a matplotlib Figure, got {type(figure).__name__}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=dest.suffix or ".png", dir=dest.parent)
    os.close(fd)
    try:
        figure.savefig(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest

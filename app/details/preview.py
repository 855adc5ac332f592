"""What an artifact preview shows, read with a size cap so the GUI never waits on a big file.

``load_preview(path)`` returns a ``Preview``; the Qt side only displays it. No Qt here.
Only regular files are read (``tracker.store.regular``): a FIFO, socket or device among the
artifacts gets a message instead of a preview, and opening one never blocks. Images are
read here too, so the Qt side decodes bytes and never opens the path itself.
"""
from __future__ import annotations

import csv
import io
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from app.common.formatting import format_size
from tracker.store.regular import NotRegularFile, describe_mode, open_regular

MAX_TEXT_BYTES = 256 * 1024
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_CSV_ROWS = 5000

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg"}
JSON_SUFFIXES = {".json", ".ipynb", ".geojson"}
YAML_SUFFIXES = {".yaml", ".yml"}
CSV_SUFFIXES = {".csv", ".tsv"}
DIFF_SUFFIXES = {".patch", ".diff"}


@dataclass
class Preview:
    kind: str  # "text", "json", "yaml", "diff", "table", "image", "message"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)  # "table": first row is the header
    path: str = ""
    note: str = ""  # e.g. "Showing the first 256 KiB of 3.1 MiB"
    data: bytes = b""  # "image": the file's bytes


def _read_head(path: Path, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes from the start of a regular file, and whether there was more."""
    with open_regular(path) as f:
        data = f.read(limit + 1)
    return data[:limit], len(data) > limit


def _decode(data: bytes, truncated: bool) -> str | None:
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if truncated and e.start >= len(data) - 3:  # cut inside a multi-byte character
            return data[:e.start].decode("utf-8")
        return None


def _cut_note(size: int) -> str:
    return f"Showing the first {format_size(MAX_TEXT_BYTES)} of {format_size(size)}"


def load_preview(path: str | os.PathLike) -> Preview:
    path = Path(path)
    try:
        st = path.stat()
        mode, size = st.st_mode, st.st_size
        if stat.S_ISDIR(mode):
            count = sum(1 for _ in os.scandir(path))
            return Preview("message", f"Folder with {count:,} item{'s' if count != 1 else ''}", path=str(path))
        if not stat.S_ISREG(mode):
            return _cannot_show(path, mode)
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            if size > MAX_IMAGE_BYTES:
                return Preview("message", f"Image too large to preview ({format_size(size)})", path=str(path))
            data, truncated = _read_head(path, MAX_IMAGE_BYTES)
            if truncated:  # it grew since
                return Preview("message", "Image too large to preview", path=str(path))
            return Preview("image", path=str(path), note=format_size(len(data)), data=data)
        data, truncated = _read_head(path, MAX_TEXT_BYTES)
        size = max(size, len(data))
    except NotRegularFile as e:  # replaced by a FIFO or device between the look and the open
        return Preview("message", f"Cannot show a preview: {e.strerror}", path=str(path))
    except PermissionError:
        return Preview("message", "Permission denied", path=str(path))
    except OSError as e:
        return Preview("message", f"Cannot read this file: {e.strerror or e}", path=str(path))
    text = _decode(data, truncated)
    if text is None:
        return Preview("message", f"Binary file, {format_size(size)}: no preview", path=str(path))
    note = _cut_note(size) if truncated else ""
    if suffix in JSON_SUFFIXES and not truncated:
        try:
            pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError as e:
            return Preview("text", text, path=str(path), note=f"Not valid JSON: {e}")
        return Preview("json", pretty, path=str(path))
    if suffix in CSV_SUFFIXES:
        return _csv_preview(text, suffix, truncated, size, str(path))
    if suffix in YAML_SUFFIXES:
        return Preview("yaml", text, path=str(path), note=note)
    if suffix in DIFF_SUFFIXES:
        return Preview("diff", text, path=str(path), note=note)
    return Preview("text", text, path=str(path), note=note)


def _cannot_show(path: Path, mode: int) -> Preview:
    return Preview("message", f"Cannot show a preview: {path.name} is {describe_mode(mode)}, not a regular file",
                   path=str(path))


def _csv_preview(text: str, suffix: str, truncated: bool, size: int, path: str) -> Preview:
    if truncated and "\n" in text:
        text = text[:text.rindex("\n") + 1]  # drop the partial last line
    delimiter = "\t" if suffix == ".tsv" else ","
    if suffix == ".csv":
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            pass
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_CSV_ROWS:
                break
    except csv.Error as e:
        return Preview("text", text, path=path, note=f"Not a readable CSV file: {e}")
    notes = []
    if len(rows) > MAX_CSV_ROWS:
        rows = rows[:MAX_CSV_ROWS + 1]
        notes.append(f"Showing the first {MAX_CSV_ROWS:,} rows")
    elif truncated:
        notes.append(_cut_note(size))
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return Preview("table", rows=rows, path=path, note="; ".join(notes))

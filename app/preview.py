"""What an artifact preview shows, read with a size cap so the GUI never waits on a big file.

``load_preview(path)`` returns a ``Preview``; the Qt side only displays it. No Qt here.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from app.formatting import format_size

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
    note: str = ""  # e.g. "Showing the first 256 KB of 3.1 MB"


def _read_head(path: Path, size: int) -> tuple[bytes, bool]:
    with open(path, "rb") as f:
        data = f.read(MAX_TEXT_BYTES)
    return data, size > MAX_TEXT_BYTES


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
        if path.is_dir():
            count = sum(1 for _ in os.scandir(path))
            return Preview("message", f"Folder with {count:,} item{'s' if count != 1 else ''}", path=str(path))
        size = path.stat().st_size
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            if size > MAX_IMAGE_BYTES:
                return Preview("message", f"Image too large to preview ({format_size(size)})", path=str(path))
            return Preview("image", path=str(path), note=format_size(size))
        data, truncated = _read_head(path, size)
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

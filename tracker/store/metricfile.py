"""Append-only metric files: a 32-byte header, then fixed 32-byte framed records.

Each record is ``value f8, step i8, timestamp i8 (ms), check u8``, little-endian. The
check mixes the other three fields with a constant, so a torn or garbage record (a
crash mid-write, a zero-filled block after a power cut, a flipped bit) fails it, and
any 32 bytes that are not a record written here pass it with a chance of 2**-64. Fixed-size
records let numpy read a million points straight from the file and let a live reader
continue from a byte position without re-reading anything.

Reading keeps every record whose check passes and skips the ones that fail, so one
damaged record costs one point, not the rest of the file. The check doubles as the
frame marker: after a damaged stretch the reader looks for the next valid record at
any byte offset, so records stay readable even when damage moved them off the 32-byte
grid (bytes lost or inserted, or a torn record that a writer appended after). Records
that fail at the very end of the file, with nothing valid after them, may be a record
the writer is still completing: the position a read returns stops before them, so a
later tail read from that position picks them up once they are complete.

A writer reopening a file cuts only that failing end (a torn tail: nothing readable is
lost) and appends after the last valid record; it never removes a valid record.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .regular import open_regular, open_regular_append

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"TRKMETR1"
HEADER_SIZE = 32
RECORD_SIZE = 32
_HEADER = MAGIC + (1).to_bytes(4, "little") + bytes(HEADER_SIZE - len(MAGIC) - 4)


@functools.cache
def _numpy() -> tuple[Any, ...]:
    """numpy and the record constants, imported on first use: listing runs never reads a
    metric file, and numpy is a fifth of the app's start-up imports (measured: ~0.2 s)."""
    import numpy as np
    dtype = np.dtype([("value", "<f8"), ("step", "<i8"), ("timestamp", "<i8"), ("check", "<u8")])
    keys = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9),
            np.uint64(0x5452_4B4D_4554_5231))  # the last is "TRKMETR1": an all-zero record never passes
    return np, dtype, keys


def __getattr__(name: str) -> Any:
    if name == "RECORD_DTYPE":
        return _numpy()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class MetricSeries:
    """A metric's history as numpy arrays, plus where the next tail read starts."""

    steps: np.ndarray  # int64
    timestamps: np.ndarray  # int64, ms since the epoch
    values: np.ndarray  # float64; NaN and inf are kept
    position: int  # byte offset just past the last valid record

    def __len__(self) -> int:
        return len(self.values)


def _checks(records: np.ndarray) -> np.ndarray:
    np, _, (k1, k2, k3, salt) = _numpy()
    with np.errstate(over="ignore"):
        v = records["value"].view("<u8")
        s = records["step"].view("<u8")
        t = records["timestamp"].view("<u8")
        return ((v * k1) ^ (s * k2) ^ (t * k3) ^ salt) + (v >> np.uint64(17))


def encode_records(steps, timestamps_ms, values) -> bytes:
    """Frame points as bytes ready to append; inputs are sequences or arrays of equal length."""
    np, dtype, _ = _numpy()
    records = np.empty(len(values), dtype=dtype)
    records["value"] = values
    records["step"] = steps
    records["timestamp"] = timestamps_ms
    records["check"] = _checks(records)
    return records.tobytes()


def _empty(position: int) -> MetricSeries:
    np = _numpy()[0]
    return MetricSeries(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64), position)


def _is_other_version(head: bytes) -> bool:
    """A header with our magic and another record format version: not ours to read or extend.
    (A header whose magic is damaged is read as version 1: the records vouch for themselves.)"""
    return head[:len(MAGIC)] == MAGIC and head[len(MAGIC):len(MAGIC) + 4] != _HEADER[len(MAGIC):len(MAGIC) + 4]


def _valid_frames(data: bytes | np.ndarray) -> tuple[list[tuple[np.ndarray, Any]], int]:
    """The valid records in ``data`` (bytes that start on a record boundary), as pieces
    ``(records, which of them)``, and the offset just past the last of them (0: none).

    Records are taken left to right: after each, the first valid frame that starts at or
    after its end, at whatever byte offset. An undamaged file costs one vectorised check;
    frames off the 32-byte grid are only looked for inside slots that fail on it.
    """
    np, dtype, _ = _numpy()
    taken: list[tuple[np.ndarray, Any]] = []
    base = end = 0  # where the current grid starts; just past the last record taken
    while (count := (len(data) - base) // RECORD_SIZE) > 0:
        records = np.frombuffer(data, dtype, count=count, offset=base)
        ok = records["check"] == _checks(records)
        if ok.all():
            taken.append((records, slice(None)))
            end = base + count * RECORD_SIZE
            break
        moved = _first_off_grid(data, base, np.flatnonzero(~ok))
        upto = count if moved is None else (moved - base) // RECORD_SIZE  # slots wholly before it
        good = np.flatnonzero(ok[:upto])
        if len(good):
            taken.append((records, good))
            end = base + (int(good[-1]) + 1) * RECORD_SIZE
        if moved is None:
            break
        base = moved  # the records carry on off the old grid: follow them on a new one
    return taken, end


def _field(pieces: list[tuple[np.ndarray, Any]], name: str) -> np.ndarray:
    """One field of the records taken, as a new array (not a view of the file's bytes)."""
    if len(pieces) == 1:
        records, which = pieces[0]
        return records[name][which].copy() if type(which) is slice else records[name][which]
    return _numpy()[0].concatenate([records[name][which] for records, which in pieces])


_SEARCH_SLOTS = 256  # failing slots searched in the first vectorised step; doubled for each next one


def _first_off_grid(data: bytes | np.ndarray, base: int, bad: np.ndarray) -> int | None:
    """The offset of the first valid frame that starts inside one of the failing slots ``bad``
    of the grid at ``base`` but off that grid; None when there is none."""
    np, dtype, _ = _numpy()
    first, step = 0, _SEARCH_SLOTS
    while first < len(bad):
        slots = bad[first:first + step]
        first, step = first + step, step * 2  # (a long damaged stretch costs a few steps, not thousands)
        found = []
        for shift in range(1, RECORD_SIZE):
            count = (len(data) - base - shift) // RECORD_SIZE
            inside = slots[slots < count]
            if len(inside) == 0:
                break  # (count only shrinks as the shift grows)
            shifted = np.frombuffer(data, dtype, count=count, offset=base + shift)[inside]
            hits = inside[shifted["check"] == _checks(shifted)]
            if len(hits):
                found.append(int(hits[0]) * RECORD_SIZE + shift)
        if found:
            return base + min(found)
    return None


def read_series(path: str | os.PathLike, position: int = 0) -> MetricSeries:
    """Read the valid records from ``position`` (0 or a position returned earlier) to the end.

    The returned ``position`` is just past the last valid record: failing bytes after it
    (a record still being written) are read again by the next tail read, failing records
    before it are skipped for good. Never raises for a damaged file: a missing file, a
    file shorter than its header or one of another format version reads as empty.
    Raises NotRegularFile for a FIFO, device or directory, and other OSErrors as they come.
    """
    try:
        f = open_regular(path)
    except FileNotFoundError:
        return _empty(position)
    with f:
        if position < HEADER_SIZE:
            head = f.read(HEADER_SIZE)
            if len(head) < HEADER_SIZE or _is_other_version(head):
                return _empty(0)
            position = HEADER_SIZE
        size = os.fstat(f.fileno()).st_size
        if size <= position:
            return _empty(position)
        f.seek(position)
        data = _numpy()[0].fromfile(f, "u1", count=size - position)  # (f.read() copies it twice)
    pieces, end = _valid_frames(data)
    if end == 0:
        return _empty(position)
    return MetricSeries(_field(pieces, "step"), _field(pieces, "timestamp"), _field(pieces, "value"), position + end)


def open_for_append(path: str | os.PathLike) -> BinaryIO:
    """Open a metric file for appending, creating it with its header when new.

    A file left by a crashed writer may end in a torn record; only that failing end is
    cut, back to the last valid record, so the new records follow it. Valid records after
    a damaged one are kept (and stay readable). A file of another record format version is
    refused (ValueError) rather than mixed with version 1 records.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open_regular_append(path)
    try:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            f.write(_HEADER)
            f.flush()
            return f
        with open_regular(path) as r:
            head = r.read(HEADER_SIZE)
            if _is_other_version(head):
                version = int.from_bytes(head[len(MAGIC):len(MAGIC) + 4], "little")
                raise ValueError(f"{path} holds metric records of format version {version}; "
                                 f"this tracker writes version 1 and will not append to it")
            end = HEADER_SIZE + _valid_frames(r.read())[1] if len(head) == HEADER_SIZE else 0
        if end == HEADER_SIZE and head[:len(MAGIC)] != MAGIC:
            end = 0  # a damaged header and no valid record: nothing to keep, start the file again
        if end < size:
            f.truncate(end)
        if end == 0:
            f.write(_HEADER)
            f.flush()
        f.seek(0, os.SEEK_END)
        return f
    except BaseException:
        f.close()
        raise

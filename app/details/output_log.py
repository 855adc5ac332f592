"""Reading a run's ``output.log`` for the Output tab, on a worker thread (no Qt here).

``open_window`` reads a window of the log: by default its tail (the last ``TAIL_BYTES``, from a
line start), so a 100 MB log shows at once; ``start``/``end`` give an earlier page. It returns a
``Follow`` that ``poll`` reads on from: what a running run printed since. Both return a ``Chunk``
of finished lines as styled segments (``app.details.ansi``) and the line being written.
"""
from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

from tracker.output_capture import output_log_path, read_output

from app.details.ansi import Segment, Terminal

TAIL_BYTES = 2 * 1024 * 1024  # what the tab shows of a big log at first, and per earlier page
READ_BYTES = 1024 * 1024  # per read_output call
POLL_MOST = 4 * 1024 * 1024  # a poll reads at most this much; the next poll reads on


@dataclass
class Chunk:
    segments: list[Segment]
    pending: list[Segment]
    start: int  # the byte the shown window starts at
    position: int  # the byte read up to
    size: int  # the log's size when read (0: no log)
    exists: bool = True
    reset: bool = False  # the log shrank or grew too fast: show ``open_window`` again


@dataclass
class Follow:
    """The reading state of one shown window, used by one worker thread at a time."""

    run_path: str
    start: int = 0
    position: int = 0
    terminal: Terminal = field(default_factory=Terminal)
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))


def log_size(run_path: str) -> int | None:
    """The log's size, None when there is none (or it is not a regular file)."""
    try:
        st = os.stat(output_log_path(run_path))
    except OSError:
        return None
    import stat as stat_module
    return st.st_size if stat_module.S_ISREG(st.st_mode) else None


def _merge(into: list[Segment], segments: list[Segment]) -> None:
    for text, style in segments:
        if into and into[-1][1] == style:
            into[-1] = (into[-1][0] + text, style)
        else:
            into.append((text, style))


def _read(follow: Follow, stop: int | None, most: int) -> tuple[list[Segment], bool]:
    """Read from ``follow.position`` up to ``stop`` (None: the end) or ``most`` bytes; (segments, more left)."""
    pieces: list[list[Segment]] = []
    read = 0
    while read < most:
        want = READ_BYTES if stop is None else min(READ_BYTES, stop - follow.position)
        if want <= 0:
            break
        data, position = read_output(follow.run_path, follow.position, want)
        if not data:
            break
        follow.position = position
        read += len(data)
        pieces.append(follow.terminal.feed(follow.decoder.decode(data)))
    out: list[Segment] = []
    for segments in pieces:
        _merge(out, segments)
    return out, read >= most


def open_window(run_path: str, start: int | None = None, end: int | None = None) -> tuple[Follow, Chunk]:
    """The log from ``start`` (None: the tail) to ``end`` (None: what there is now), from a line start."""
    size = log_size(run_path)
    follow = Follow(str(run_path))
    if size is None:
        return follow, Chunk([], [], 0, 0, 0, exists=False)
    if start is None:
        start = max(0, size - TAIL_BYTES)
    start = max(0, min(start, size))
    if start > 0:  # begin after the first line end: a window never starts inside a line
        data, _ = read_output(run_path, start - 1, 64 * 1024)
        cut = data.find(b"\n")
        start = start - 1 + cut + 1 if cut >= 0 else start
    follow.start = follow.position = start
    segments, _ = _read(follow, end, 1 << 62)
    if end is not None:  # an earlier page ends at a line start: nothing is left pending
        segments_end = follow.terminal.feed(follow.decoder.decode(b"", final=True))
        _merge(segments, segments_end)
        pending = follow.terminal.pending()
    else:
        pending = follow.terminal.pending()
    return follow, Chunk(segments, pending, follow.start, follow.position, size)


def poll(follow: Follow) -> Chunk:
    """What was written since the last read (an empty chunk: nothing new)."""
    size = log_size(follow.run_path)
    if size is None:
        return Chunk([], follow.terminal.pending(), follow.start, follow.position, 0, exists=follow.position > 0)
    if size < follow.position or size - follow.position > 4 * TAIL_BYTES:
        return Chunk([], [], follow.start, follow.position, size, reset=True)
    segments, _more = _read(follow, None, POLL_MOST)
    return Chunk(segments, follow.terminal.pending(), follow.start, follow.position, size)


def log_path(run_path: str) -> Path:
    return output_log_path(run_path)

"""Reading a run's ``output.log`` for the Output tab, on a worker thread (no Qt here).

``open_window`` reads a window of the log: by default its tail (the last ``TAIL_BYTES``, from a
line start), so a 100 MB log shows at once; ``start``/``end`` give an earlier page. It returns a
``Follow`` that ``poll`` reads on from: what a running run printed since. Both return a ``Chunk``:
the finished lines' text and style spans (``app.details.ansi``), and the line being written.
"""
from __future__ import annotations

import codecs
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tracker.output_capture import output_log_path, read_output

from app.details.ansi import Style, Terminal

TAIL_BYTES = 1024 * 1024  # what the tab shows of a big log at first, and per earlier page (~15,000 lines)
READ_BYTES = 256 * 1024  # per read_output call
POLL_MOST = 4 * 1024 * 1024  # a poll reads at most this much; the next poll reads on
FEED_CHARS = 4 * 1024  # converted at a time (~1 ms), between pauses
YIELD_SECONDS = 0.0005


@dataclass
class Chunk:
    text: str  # finished lines, line ends included
    spans: list[int]  # [length, style id, ...] over ``text``
    pending: tuple[str, list[int]]  # the line being written, and its spans
    styles: list[Style]  # by style id
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


def _read(follow: Follow, stop: int | None, most: int) -> tuple[str, list[int]]:
    """Read from ``follow.position`` up to ``stop`` (None: the end) or ``most`` bytes."""
    texts: list[str] = []
    spans: list[int] = []
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
        decoded = follow.decoder.decode(data)
        for at in range(0, len(decoded), FEED_CHARS):
            text, more = follow.terminal.feed(decoded[at:at + FEED_CHARS])
            texts.append(text)
            if spans and more and spans[-1] == more[1]:  # the same style across two pieces: one span
                spans[-2] += more[0]
                more = more[2:]
            spans += more
            # A moment off the interpreter between pieces: the GUI thread takes it now instead of
            # queueing for it (a conversion running flat out delayed the GUI's passes by up to 100 ms).
            time.sleep(YIELD_SECONDS)
    return "".join(texts), spans


def _chunk(follow: Follow, text: str, spans: list[int], size: int) -> Chunk:
    return Chunk(text, spans, follow.terminal.pending(), list(follow.terminal.styles), follow.start,
                 follow.position, size)


def open_window(run_path: str, start: int | None = None, end: int | None = None) -> tuple[Follow, Chunk]:
    """The log from ``start`` (None: the tail) to ``end`` (None: what there is now), from a line start."""
    size = log_size(run_path)
    follow = Follow(str(run_path))
    if size is None:
        return follow, Chunk("", [], ("", []), [], 0, 0, 0, exists=False)
    if start is None:
        start = max(0, size - TAIL_BYTES)
    start = max(0, min(start, size))
    if start > 0:  # begin after the first line end: a window never starts inside a line
        data, _ = read_output(run_path, start - 1, 64 * 1024)
        cut = data.find(b"\n")
        start = start - 1 + cut + 1 if cut >= 0 else start
    follow.start = follow.position = start
    text, spans = _read(follow, end, 1 << 62)
    return follow, _chunk(follow, text, spans, size)


def poll(follow: Follow) -> Chunk:
    """What was written since the last read (an empty chunk: nothing new)."""
    size = log_size(follow.run_path)
    if size is None:
        chunk = _chunk(follow, "", [], 0)
        chunk.exists = follow.position > 0
        return chunk
    if size < follow.position or size - follow.position > 4 * TAIL_BYTES:
        chunk = _chunk(follow, "", [], size)
        chunk.reset = True
        return chunk
    text, spans = _read(follow, None, POLL_MOST)
    return _chunk(follow, text, spans, size)


def find_before(run_path: str, needle: str, before: int) -> int | None:
    """The byte offset of the last match of ``needle`` (ASCII letters in any case) that ends before byte
    ``before`` of the log, or None. Read backward a block at a time: a 100 MB log costs a read of it."""
    target = needle.encode("utf-8").lower()
    if not target:
        return None
    end = before
    while end > 0:
        start = max(0, end - READ_BYTES * 4)
        data, _ = read_output(run_path, start, end - start)
        found = data.lower().rfind(target)
        if found >= 0:
            return start + found
        if start == 0:
            return None
        end = start + len(target) - 1  # (a match across the blocks' boundary is found in the next)
        time.sleep(0)
    return None


def log_path(run_path: str) -> Path:
    return output_log_path(run_path)

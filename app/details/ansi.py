"""Console output as a terminal shows it: ANSI colours (SGR) and carriage returns, without Qt.

``Terminal.feed(text)`` takes decoded text in pieces (a piece may end inside an escape sequence)
and returns the finished lines' text, line ends included, with its style spans (adjacent spans of
one style merged: a plain log is one span). The line being written (no line end yet) is
``pending()``: a ``\\r`` moves back to its start and what
follows overwrites it, as tqdm's progress bars expect; ``ESC[K`` erases to its end. Cursor
movement to other lines (``ESC[A``) cannot be followed in a scrolling log and is ignored.

A style is a tuple ``(fg, bg, bold, italic, underline, inverse, dim)``; colours are ``None``
(the default), an index 0-255 of the xterm palette, or an ``(r, g, b)`` tuple. ``rgb(colour,
dark)`` turns them into hex colours readable on the light or the dark theme.
"""
from __future__ import annotations

import re
from typing import Union

Colour = Union[None, int, tuple]
Style = tuple  # (fg, bg, bold, italic, underline, inverse, dim)
Segment = tuple[str, Style]

PLAIN: Style = (None, None, False, False, False, False, False)
MAX_LINE = 20_000  # a longer line (a log with no line ends) is broken, as a terminal wraps it

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), two-character escapes, and the controls we act on.
_TOKEN = re.compile(r"\x1b\[([0-9;:?<=>]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -Z\\-~]|[\r\n\b]")
_INCOMPLETE = re.compile(r"\x1b(?:\[[0-9;:?<=>]*[ -/]*|\][^\x07\x1b]*)?\Z")
_OTHER_CONTROLS = re.compile(r"[\x00-\x07\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")

# The 16 basic colours, per theme: the light set is dark enough for a white page, the dark
# set light enough for a near-black one, 4.5:1 at least (a terminal's "white" is grey on the
# light page, its "black" grey on the dark one).
_BASIC = {
    False: ("#24292f", "#c4221a", "#1a7f37", "#8a6a00", "#0b5cd5", "#8a3ab9", "#0e7c86", "#6e7781",
            "#57606a", "#d73a2f", "#1f883d", "#9a6700", "#0969da", "#8250df", "#1b7c83", "#656d76"),
    True: ("#8b949e", "#ff7b72", "#56d364", "#e3b341", "#79c0ff", "#d2a8ff", "#56d4dd", "#d0d7de",
           "#8b949e", "#ffa198", "#7ee787", "#f2cc60", "#a5d6ff", "#e2c5ff", "#b3f0ff", "#f0f6fc"),
}


def _xterm(index: int) -> str:
    """The 256-colour palette beyond the first 16: a 6x6x6 cube, then 24 greys."""
    if index < 232:
        index -= 16
        levels = (0, 95, 135, 175, 215, 255)
        r, g, b = levels[index // 36], levels[index // 6 % 6], levels[index % 6]
    else:
        r = g = b = 8 + 10 * (index - 232)
    return f"#{r:02x}{g:02x}{b:02x}"


def rgb(colour: Colour, dark: bool) -> str | None:
    """``colour`` as ``#rrggbb`` for the light (``dark=False``) or the dark theme; None: the default."""
    if colour is None:
        return None
    if isinstance(colour, tuple):
        return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, int(c))) for c in colour[:3]))
    if 0 <= colour < 16:
        return _BASIC[dark][colour]
    return _xterm(min(max(colour, 16), 255))


def _extended(params: list[int], i: int) -> tuple[Colour, int]:
    """``38;5;n`` or ``38;2;r;g;b`` starting at ``params[i]`` (the 38/48): the colour, the next index."""
    if i + 1 < len(params):
        if params[i + 1] == 5 and i + 2 < len(params):
            return params[i + 2] & 0xFF, i + 3
        if params[i + 1] == 2 and i + 4 < len(params):
            return (params[i + 2], params[i + 3], params[i + 4]), i + 5
    return None, len(params)


def apply_sgr(style: Style, text: str) -> Style:
    """The style after ``ESC[<text>m``."""
    try:
        params = [int(p) if p else 0 for p in text.replace(":", ";").split(";")] if text else [0]
    except ValueError:
        return style
    fg, bg, bold, italic, underline, inverse, dim = style
    i = 0
    while i < len(params):
        p = params[i]
        i += 1
        if p == 0:
            fg, bg, bold, italic, underline, inverse, dim = PLAIN
        elif p == 1:
            bold = True
        elif p == 2:
            dim = True
        elif p == 3:
            italic = True
        elif p == 4:
            underline = True
        elif p == 7:
            inverse = True
        elif p == 22:
            bold = dim = False
        elif p == 23:
            italic = False
        elif p == 24:
            underline = False
        elif p == 27:
            inverse = False
        elif 30 <= p <= 37:
            fg = p - 30
        elif 90 <= p <= 97:
            fg = p - 90 + 8
        elif 40 <= p <= 47:
            bg = p - 40
        elif 100 <= p <= 107:
            bg = p - 100 + 8
        elif p == 39:
            fg = None
        elif p == 49:
            bg = None
        elif p in (38, 48):
            colour, i = _extended(params, i - 1)
            if p == 38:
                fg = colour
            else:
                bg = colour
    return (fg, bg, bold, italic, underline, inverse, dim)


class Terminal:
    """One console's state: the current style, the line being written and the cursor in it.

    Output is flat, ``(text, spans)`` with ``spans`` = [length, style id, length, style id, ...] and
    ``styles[style id]`` the style: a big log makes a few strings and lists of ints, not a tuple per
    coloured word (hundreds of thousands of containers would bring on the garbage collector's full
    passes, which hold every thread, the GUI's too, for 100-200 ms each).
    """

    def __init__(self) -> None:
        self.styles: list[Style] = [PLAIN]
        self._ids: dict[Style, int] = {PLAIN: 0}
        self.style: Style = PLAIN
        self._sid = 0
        self._line: list[list] = []  # [text, style id] runs of the line being written
        self._length = 0
        self._col = 0
        self._held = ""  # the start of an escape sequence cut by the end of a piece
        self._pieces: list[str] = []
        self._spans: list[int] = []

    def feed(self, text: str) -> tuple[str, list[int]]:
        """Consume ``text``; return the lines it finished: (their text with line ends, spans)."""
        text = self._held + text
        self._held = ""
        tail = _INCOMPLETE.search(text, max(0, len(text) - 256))
        if tail is not None:
            self._held, text = text[tail.start():], text[:tail.start()]
        at = 0
        for match in _TOKEN.finditer(text):
            if match.start() > at:
                self._put(text[at:match.start()])
            at = match.end()
            token = match.group(0)
            if token == "\n":
                self._end_line()
            elif token == "\r":
                self._col = 0
            elif token == "\b":
                self._col = max(0, self._col - 1)
            elif match.group(2) is not None:
                self._csi(match.group(1), match.group(2))
        if at < len(text):
            self._put(text[at:])
        out = "".join(self._pieces), self._spans
        self._pieces, self._spans = [], []
        return out

    def pending(self) -> tuple[str, list[int]]:
        """The line being written (no line end), as (text, spans)."""
        spans: list[int] = []
        for text, sid in self._line:
            if text:
                spans += (len(text), sid)
        return "".join(text for text, _ in self._line), spans

    # ---- the line being written ---------------------------------------------------------------

    def _set_style(self, style: Style) -> None:
        self.style = style
        sid = self._ids.get(style)
        if sid is None:
            sid = self._ids[style] = len(self.styles)
            self.styles.append(style)
        self._sid = sid

    def _put(self, text: str) -> None:
        if "\t" in text or _OTHER_CONTROLS.search(text):
            text = _OTHER_CONTROLS.sub("", text)
        while text:
            room = MAX_LINE - self._col
            if room <= 0:
                self._end_line()
                room = MAX_LINE
            piece, text = text[:room], text[room:]
            self._write(piece)

    def _write(self, text: str) -> None:
        n, sid, line = len(text), self._sid, self._line
        if self._col == self._length:
            if line and line[-1][1] == sid:
                line[-1][0] += text
            else:
                line.append([text, sid])
            self._length += n
            self._col += n
            return
        end = self._col + n
        if self._col == 0 and end >= self._length:  # a progress bar redrawn whole: the usual case
            self._line = [[text, sid]]
        elif len(line) == 1 and line[0][1] == sid:  # one style all along: a splice
            old = line[0][0]
            line[0][0] = old[:self._col] + text + old[end:]
        else:
            runs: list[list] = []
            for run in self._slice(0, self._col) + [[text, sid]] + self._slice(end, self._length):
                if runs and runs[-1][1] == run[1]:
                    runs[-1][0] += run[0]
                else:
                    runs.append(run)
            self._line = runs
        self._length = max(self._length, end)
        self._col = end

    def _slice(self, start: int, stop: int) -> list[list]:
        """The runs covering columns [start, stop)."""
        out, offset = [], 0
        for text, sid in self._line:
            a, b = max(start - offset, 0), min(stop - offset, len(text))
            if a < b:
                out.append([text[a:b], sid])
            offset += len(text)
            if offset >= stop:
                break
        return out

    def _end_line(self) -> None:
        pieces, spans = self._pieces, self._spans
        for text, sid in self._line:
            if not text:
                continue
            pieces.append(text)
            if spans and spans[-1] == sid:
                spans[-2] += len(text)
            else:
                spans += (len(text), sid)
        pieces.append("\n")
        if spans:
            spans[-2] += 1
        else:
            spans += (1, 0)
        self._line, self._length, self._col = [], 0, 0

    def _csi(self, params: str, final: str) -> None:
        if final == "m":
            self._set_style(apply_sgr(self.style, params))
            return
        try:
            n = int(params.split(";")[0] or 0) if params and params[0].isdigit() else 0
        except ValueError:
            n = 0
        if final == "K":  # erase in line: 0 to the end, 1 from the start, 2 all
            if n == 0:
                self._line, self._length = self._slice(0, self._col), self._col
            elif n == 1:
                self._line = [[" " * self._col, 0]] + self._slice(self._col, self._length)
            else:
                self._line, self._length = [], 0
        elif final == "D":
            self._col = max(0, self._col - max(n, 1))
        elif final == "C":
            self._move_to(self._col + max(n, 1))
        elif final == "G":
            self._move_to(max(n, 1) - 1)

    def _move_to(self, col: int) -> None:
        col = min(col, MAX_LINE - 1)
        if col > self._length:
            self._col = self._length
            saved = self.style
            self._set_style(PLAIN)
            self._write(" " * (col - self._length))
            self._set_style(saved)
        self._col = col


def segments(text: str, spans: list[int], styles: list[Style]) -> list[Segment]:
    """(text, style) pairs of a flat ``(text, spans)``: for tests and small pieces."""
    out, at = [], 0
    for i in range(0, len(spans), 2):
        out.append((text[at:at + spans[i]], styles[spans[i + 1]]))
        at += spans[i]
    return out



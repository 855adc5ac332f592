"""Light syntax coloring for previews: diffs, JSON and YAML. Colors follow the theme."""
from __future__ import annotations

import re

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from app.shell.errors import override_failed
from app.shell.theme import is_dark

_RULES = {
    "json": [
        (re.compile(r'"(?:[^"\\]|\\.)*"(?=\s*:)'), "key"),
        (re.compile(r':\s*("(?:[^"\\]|\\.)*")'), "string"),
        (re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])"), "number"),
        (re.compile(r"\b(?:true|false|null)\b"), "keyword"),
    ],
    "yaml": [
        (re.compile(r"^\s*(?:- )?[^\s#:][^#:]*?(?=:(?:\s|$))"), "key"),
        (re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])"), "number"),
        (re.compile(r"\b(?:true|false|null|yes|no)\b"), "keyword"),
        (re.compile(r"(?:^|\s)#.*$"), "comment"),
    ],
    "diff": [
        (re.compile(r"^\+(?!\+\+ ).*$"), "added"),
        (re.compile(r"^-(?!-- ).*$"), "removed"),
        (re.compile(r"^@@.*$"), "hunk"),
        (re.compile(r"^(?:diff --git|index |\+\+\+ |--- |# untracked:).*$"), "meta"),
    ],
}
_LIGHT = {"key": "#0550ae", "string": "#0a3069", "number": "#953800", "keyword": "#8250df",
          "comment": "#6e7781", "added": "#116329", "removed": "#b42318", "hunk": "#8250df",
          "meta": "#57606a"}
_DARK = {"key": "#79c0ff", "string": "#a5d6ff", "number": "#ffa657", "keyword": "#d2a8ff",
         "comment": "#8b949e", "added": "#7ee787", "removed": "#ff7b72", "hunk": "#d2a8ff",
         "meta": "#8b949e"}


class Highlighter(QSyntaxHighlighter):
    """Colors one document as ``kind`` ("json", "yaml", "diff"; anything else: no color)."""

    def __init__(self, document: QTextDocument, kind: str = "") -> None:
        super().__init__(document)
        self._kind = kind
        self._formats: dict[str, QTextCharFormat] = {}
        self._refresh_formats()

    def set_kind(self, kind: str) -> None:
        self._refresh_formats()
        if kind != self._kind:
            self._kind = kind
        self.rehighlight()

    def _refresh_formats(self) -> None:
        colors = _DARK if is_dark() else _LIGHT
        self._formats = {}
        for name, color in colors.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            if name in ("hunk", "meta"):
                fmt.setFontWeight(600)
            self._formats[name] = fmt

    def highlightBlock(self, text: str) -> None:
        try:
            for pattern, name in _RULES.get(self._kind, ()):
                for m in pattern.finditer(text):
                    start, end = (m.start(1), m.end(1)) if m.groups() else (m.start(), m.end())
                    self.setFormat(start, end - start, self._formats[name])
        except Exception:  # noqa: BLE001 - a Qt override never raises (PySide6 can crash); an override never raises into Qt
            override_failed("Highlighter.highlightBlock")

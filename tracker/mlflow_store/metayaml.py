"""A small, safe reader for the YAML that MLflow writes (``meta.yaml`` files).

MLflow writes these with PyYAML's ``safe_dump``: a mapping of scalars (plain, single- or
double-quoted, possibly folded over several lines), ``[]``/``{}`` for empty collections, and
one level of nested mapping (a registered model's ``aliases``). PyYAML is not a dependency of
tracker, so this parser reads exactly that subset and raises ``ValueError`` for anything else.
It never constructs objects: values are str, int, float, bool, None, or dicts/lists of them.
"""
from __future__ import annotations

import re
from typing import Any

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}
_FALSE = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"}
_SPECIAL_FLOATS = {".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"),
                   "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
                   "+.inf": float("inf"), ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan")}
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
            "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def parse_meta(text: str) -> dict[str, Any]:
    """Parse a ``meta.yaml`` document into a dict; ValueError names what is not understood."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    body = [line for line in lines if line.strip(" \t") not in ("---", "...") or line[:1] == " "]
    if body and body[0].startswith("%"):
        raise ValueError("YAML directives are not supported")
    if [line.strip(" \t") for line in body if not _is_blank(line)] == ["{}"]:
        return {}
    simple = _parse_simple(body)
    if simple is not None:
        return simple
    result = _parse_mapping(body)
    if not isinstance(result, dict):
        raise ValueError("the document is not a mapping")
    return result


_UNSAFE_FIRST = set("'\"[]{}|>&*!%@`#,?:- \t")


def _parse_simple(lines: list[str]) -> dict[str, Any] | None:
    """The common case, fast: one ``key: value`` per line, plain or single-quoted values that end
    on their line. None (the full parser then reads the document) for anything else."""
    out: dict[str, Any] = {}
    for line in lines:
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":") and line[:-1].isidentifier() and line[:-1] not in out:
                out[line[:-1]] = None  # "key:" with nothing after it (and nothing nested below)
                continue
            return None
        if not key.isidentifier() or key in out or not value or value[-1] in " \t":
            return None
        first = value[0]
        if first == "'":
            if len(value) < 2 or value[-1] != "'" or "'" in value[1:-1].replace("''", ""):
                return None
            out[key] = value[1:-1].replace("''", "'")
        elif value == "[]" or value == "{}":
            out[key] = [] if value == "[]" else {}
        elif first in _UNSAFE_FIRST or " #" in value or ": " in value or value[-1] == ":" or "\t" in value:
            return None
        else:
            out[key] = _resolve(value)
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_blank(line: str) -> bool:
    stripped = line.strip(" \t")
    return not stripped or stripped.startswith("#")


def _parse_mapping(lines: list[str]) -> dict[str, Any]:
    """Entries start at the block's indentation; deeper lines continue the entry above them."""
    lines = _dedent(lines)
    out: dict[str, Any] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_blank(line):
            i += 1
            continue
        if line[0] == " " or line[0] == "\t":
            raise ValueError(f"unexpected indentation: {line[:40]!r}")
        key, rest = _split_key(line)
        j = i + 1
        while j < len(lines) and (lines[j][:1] in (" ", "\t") or (lines[j] == "" and _continues(lines, j))):
            j += 1
        more = lines[i + 1:j]
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        if rest.strip(" \t") == "" and any(not _is_blank(m) for m in more):
            out[key] = _parse_block(more)
        else:
            out[key] = _scalar(rest, more)
        i = j
    return out


def _continues(lines: list[str], j: int) -> bool:
    """An empty line belongs to the entry above when an indented line follows it."""
    for line in lines[j:]:
        if line != "":
            return line[:1] in (" ", "\t")
    return False


def _dedent(lines: list[str]) -> list[str]:
    indents = [_indent(line) for line in lines if not _is_blank(line)]
    cut = min(indents) if indents else 0
    # a line that looks like a comment may be the continuation of a quoted value: keep its text
    return [line[min(cut, _indent(line)):] if line.strip(" \t") else "" for line in lines]


def _parse_block(lines: list[str]) -> Any:
    content = [line.strip(" \t") for line in lines if not _is_blank(line)]
    if content and content[0].startswith("- ") or content == ["-"]:
        if any(not (c.startswith("- ") or c == "-") for c in content):
            raise ValueError("only sequences of single-line scalars are supported")
        return [_scalar(c[2:], []) for c in content]
    return _parse_mapping(lines)


def _split_key(line: str) -> tuple[str, str]:
    if line[0] in "'\"":
        key, end = _quoted(line, 0)
        if not line[end:].startswith(":"):
            raise ValueError(f"expected ':' after the key in {line[:40]!r}")
        return key, line[end + 1:]
    m = re.match(r"^([^#:\s'\"][^:]*?)[ \t]*:([ \t]|$)", line)
    if m is None:
        raise ValueError(f"expected 'key: value', got {line[:40]!r}")
    return m.group(1), line[m.end(1):].lstrip(" \t")[1:]


def _scalar(first: str, more: list[str]) -> Any:
    text = first.strip(" \t")
    if text.startswith(("'", '"')):
        whole = "\n".join([first.lstrip(" \t"), *more])
        value, end = _quoted(whole, 0)
        tail = whole[end:].strip(" \t\n")
        if tail and not tail.startswith("#"):
            raise ValueError(f"unexpected text after a quoted value: {tail[:40]!r}")
        return value
    if text.startswith(("|", ">")):
        raise ValueError("block scalars ('|', '>') are not supported")
    if text.startswith(("&", "*", "!")):
        raise ValueError("anchors, aliases and tags are not supported")
    if text.startswith(("[", "{")):
        inner = text[1:].split("#")[0].strip(" \t")
        if inner in ("]", "}") and not any(not _is_blank(m) for m in more):
            return [] if text[0] == "[" else {}
        raise ValueError("only empty flow collections ('[]', '{}') are supported")
    parts = [_strip_comment(text)] + [_strip_comment(m.strip(" \t")) if m.strip(" \t") else "" for m in more]
    return _resolve(_fold(parts))


def _strip_comment(text: str) -> str:
    m = re.search(r"[ \t]#", text)
    return text[: m.start()].rstrip(" \t") if m else text


def _fold(parts: list[str]) -> str:
    """YAML line folding: one line break becomes a space, each further empty line a newline."""
    out = parts[0]
    pending = 0
    for part in parts[1:]:
        if part == "":
            pending += 1
            continue
        out += ("\n" * pending if pending else " ") + part
        pending = 0
    return out


def _resolve(text: str) -> Any:
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        return int(text.replace("_", ""))
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text.replace("_", ""))
    return text


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted scalar starting at ``text[start]`` and the index just past it."""
    quote = text[start]
    chunks: list[str] = []  # the value's characters, with raw line breaks kept for folding
    i = start + 1
    while True:
        if i >= len(text):
            raise ValueError("a quoted value is not closed")
        ch = text[i]
        if ch == quote:
            if quote == "'" and text[i + 1: i + 2] == "'":
                chunks.append("'")
                i += 2
                continue
            return _fold_quoted(chunks), i + 1
        if quote == '"' and ch == "\\":
            i = _escape(text, i, chunks)
            continue
        chunks.append(ch)
        i += 1


class _Kept(str):
    """A character that came from an escape: folding never strips or joins it."""


def _escape(text: str, i: int, chunks: list[str]) -> int:
    code = text[i + 1: i + 2]
    if code == "\n":  # an escaped line break: the lines join with nothing between them
        j = i + 2
        while j < len(text) and text[j] in " \t":
            j += 1
        chunks.append(_Kept(""))
        return j
    if code in _ESCAPES:
        chunks.append(_Kept(_ESCAPES[code]))
        return i + 2
    if code in _HEX_ESCAPES:
        digits = text[i + 2: i + 2 + _HEX_ESCAPES[code]]
        if len(digits) != _HEX_ESCAPES[code] or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError(f"bad escape \\{code}{digits}")
        chunks.append(_Kept(chr(int(digits, 16))))
        return i + 2 + len(digits)
    raise ValueError(f"unknown escape \\{code}")


def _fold_quoted(chunks: list[str]) -> str:
    """Fold raw line breaks in a quoted value: trailing and leading blanks around a break go,
    one break becomes a space, each further (empty) line a newline."""
    out: list[str] = []
    i = 0
    while i < len(chunks):
        ch = chunks[i]
        if ch == "\n" and type(ch) is str:
            while out and out[-1] in (" ", "\t") and type(out[-1]) is str:
                out.pop()
            breaks = 0
            while i < len(chunks) and ((chunks[i] == "\n" and type(chunks[i]) is str)
                                       or (chunks[i] in (" ", "\t") and type(chunks[i]) is str)):
                breaks += chunks[i] == "\n"
                i += 1
            out.append("\n" * (breaks - 1) if breaks > 1 else " ")
            continue
        out.append(ch)
        i += 1
    return "".join(out)

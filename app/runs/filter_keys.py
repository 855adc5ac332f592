"""What a runs filter names, for the filter box: the keys a filter can complete to, the keys it
compares that no shown run has (with the nearest one they do have), the nearest name to a
misspelt one, and the box's reading of text that is an expression gone wrong.

The grammar is ``tracker.filter``'s; nothing here changes it. No Qt.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Iterable

import numpy as np

from tracker.filter import FilterSyntaxError, is_filter_expression, parse_filter
from tracker.filter_ast import ATTRIBUTES, BoolOp, Compare, Not
from tracker.index import RunTable

from app.runs.rows import RowFilter

PREFIXES = {"metric": "metrics.", "param": "params.", "tag": "tags."}
MIN_TOKEN = 2  # characters typed before keys are offered (one letter matches nearly every key)
_KEYWORDS = {"and", "or", "not", "like", "ilike", "in"}
_COMPARISON = re.compile(r"[=<>]")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def parse_row_filter(experiment: str | None, text: str, names: list[str] | None = None) -> RowFilter:
    """``RowFilter(experiment, text)``, except for two kinds of text that are expressions gone
    wrong rather than words to search for; they raise the parser's error, so the last good filter
    stays: text that one more key character makes an expression (``metrics.``, ``(tags.``: a
    key being typed), and, given ``names`` (the keys and attributes a filter can name), text
    with a comparison whose key is a near miss of one (``metrcs.acc > 0.9``, ``stauts = 'FAILED'``)."""
    if not is_filter_expression(text):
        if is_filter_expression(text + "x"):
            parse_filter(text)  # raises FilterSyntaxError ("expected a key after 'metrics.'")
        if names and _COMPARISON.search(_QUOTED.sub("", text)):
            try:
                parse_filter(text)
            except FilterSyntaxError as e:
                if nearest_name(e, names):
                    raise
    return RowFilter(experiment, text)


def quoted_key(prefix: str, key: str) -> str:
    """``prefix`` + ``key`` as the grammar reads it: backquoted when the key has characters a bare
    key cannot hold (keys are letters, digits and ``_-/.``)."""
    if key and all(c.isalnum() or c in "_-/." for c in key) and not key.endswith("."):
        return prefix + key
    if "`" not in key:
        return f"{prefix}`{key}`"
    return prefix + '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fields(node: Any) -> Iterable[tuple[str, str]]:
    """The (kind, key) of every metric, param and tag the expression compares."""
    if isinstance(node, BoolOp):
        for child in node.children:
            yield from _fields(child)
    elif isinstance(node, Not):
        yield from _fields(node.child)
    elif isinstance(node, Compare) and node.field.kind in PREFIXES:
        yield node.field.kind, node.field.key


def _columns(table: RunTable, kind: str) -> dict:
    return {"metric": table.metrics, "param": table.params, "tag": table.tags}[kind]


def _has(column: Any, rows: np.ndarray) -> bool:
    present = column.present if isinstance(column.present, np.ndarray) else column.present()
    return bool(present[rows].any())


def missing_keys_note(row_filter: RowFilter, table: RunTable) -> str:
    """What to say about the keys ``row_filter`` compares that no run shown (the experiment's
    runs, before the expression) has, with the nearest key they do have; "" when all are there."""
    ast = row_filter.expression.ast if row_filter.expression is not None else None
    wanted = list(dict.fromkeys(_fields(ast)))
    if not wanted:
        return ""
    rows = RowFilter(row_filter.experiment).select(table)
    missing = [(kind, key) for kind, key in wanted
               if (column := _columns(table, kind).get(key)) is None or not _has(column, rows)]
    if not missing:
        return ""
    known = {quoted_key(prefix, key): key for kind, prefix in PREFIXES.items()
             for key, column in _columns(table, kind).items() if _has(column, rows)}
    where = "no run" if row_filter.experiment is None else f"no run in {row_filter.experiment}"
    notes = []
    for kind, key in missing:
        name = quoted_key(PREFIXES[kind], key)
        same_key = [k for k, bare in known.items() if bare == key]  # metrics.lr when lr is a param
        near = same_key or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        notes.append(f"{where} has {name}" + (f" — did you mean {near[0]}?" if near else ""))
    return "; ".join(notes)


def completion_keys(table: RunTable) -> list[str]:
    """Every key a filter can name: the table's params, metrics and tags, and the attributes."""
    keys = [quoted_key(prefix, key) for kind, prefix in PREFIXES.items()
            for key in sorted(_columns(table, kind), key=str.lower)]
    return keys + [f"attributes.{name}" for name in sorted(ATTRIBUTES)]


def filter_names(table: RunTable) -> list[str]:
    """The keys (``metrics.acc``...) and attributes (``attributes.status`` and ``status``) a filter can name."""
    return completion_keys(table) + sorted(ATTRIBUTES)


def nearest_name(error: Exception, names: list[str]) -> str:
    """Of ``names``, the one nearest to a misspelt key the parser stopped at (``metrcs.acc``,
    ``stauts``), or ""."""
    text, start = getattr(error, "text", ""), getattr(error, "position", -1)
    end = start
    while 0 <= end < len(text) and (text[end].isalnum() or text[end] in "_-/."):
        end += 1
    word = text[start:end] if start >= 0 else ""
    if len(word) < MIN_TOKEN or word.lower() in _KEYWORDS:
        return ""
    near = difflib.get_close_matches(word, names, n=1, cutoff=0.75)
    return near[0] if near and near[0] != word else ""


def token_at(text: str, cursor: int) -> tuple[int, str]:
    """(start, text) of the key being typed before ``cursor``; "" inside a quoted string."""
    quote = None
    for c in text[:cursor]:  # escapes inside strings cannot close them, so a plain scan will do
        if quote is None and c in "'\"`":
            quote = c
        elif c == quote:
            quote = None
    if quote is not None:
        return cursor, ""
    start = cursor
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-/."):
        start -= 1
    return start, text[start:cursor]

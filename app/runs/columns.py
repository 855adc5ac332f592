"""The runs table's columns, read straight from a ``RunTable``: a cell is one column at one row.

Each column knows its cell text, its raw value (``Qt.UserRole``, the CSV), its tooltip and its
sort keys: numpy arrays over every row of the table, so sorting 100,000 runs is one
``np.lexsort``. Text sorts without case, and a param's numbers sort by value before its text,
as the table always has; a missing value sorts last in either direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tracker.index import RunTable
from tracker.index.columns import NO_INT, TextColumn

from app.common.formatting import (
    BRANCH_TAG, COMMIT_TAG, DIRTY_TAG, elapsed_ms, format_duration, format_number, format_time, short_commit,
    to_number,
)

UNREADABLE = "UNREADABLE"

SortKeys = tuple[list[np.ndarray], np.ndarray]  # keys (most significant first), missing


@dataclass(frozen=True)
class Column:
    key: str  # "name", "params.lr", "metrics.accuracy", ...
    title: str
    value: Callable[[RunTable, int], Any]  # the raw value (Qt.UserRole); None when missing
    text: Callable[[RunTable, int], str]  # what the cell shows
    sort_keys: Callable[[RunTable], SortKeys]
    numeric: bool = False  # right-aligned
    tooltip: Callable[[RunTable, int], str] | None = None
    export: Callable[[RunTable, int], Any] | None = None  # the CSV value, when not the raw one


# ---- reading one row ------------------------------------------------------------------------

def is_unreadable(table: RunTable, i: int) -> bool:
    return table.text["reason"].codes[i] >= 0


def run_id_of(table: RunTable, i: int) -> str:
    return table.text["run_id"].get(i) or table.text["dir"].get(i)


def name_of(table: RunTable, i: int) -> str:
    """The run's name; an unreadable run's id."""
    return table.text["run_name"].get(i) or run_id_of(table, i)


def status_of(table: RunTable, i: int) -> str:
    return UNREADABLE if is_unreadable(table, i) else (table.text["status"].get(i) or "")


def _readable_text(field: str) -> Callable[[RunTable, int], str | None]:
    def value(table: RunTable, i: int) -> str | None:
        return None if is_unreadable(table, i) else (table.text[field].get(i) or "")
    return value


def _start(table: RunTable, i: int) -> int | None:
    return None if is_unreadable(table, i) else int(table.ints["start_time"][i])


def _duration(table: RunTable, i: int) -> float | None:
    if is_unreadable(table, i):
        return None
    start, end = int(table.ints["start_time"][i]), int(table.ints["end_time"][i])
    if end != NO_INT:
        return end - start
    return elapsed_ms(start) if table.text["status"].get(i) == "RUNNING" else None


def _tag(table: RunTable, key: str, i: int) -> str | None:
    column = table.tags.get(key)
    return None if column is None else column.get(i)


# ---- sort keys ------------------------------------------------------------------------------

def string_ranks(strings: list[str], numbers_first: bool = False) -> np.ndarray:
    """Dense ranks of ``strings`` in the table's order: without case; with ``numbers_first``,
    values that read as numbers (by value) before the others."""
    if not strings:
        return np.zeros(0, dtype=np.int64)
    lowered = [s.lower() for s in strings]
    # a fixed-width numpy string array sorts in C, but one very long value would make it huge
    array = np.array(lowered) if max(map(len, lowered)) <= 256 else np.array(lowered, dtype=object)
    ranks = np.unique(array, return_inverse=True)[1].reshape(-1).astype(np.int64)
    if numbers_first:
        numbers = np.array([np.nan if (x := to_number(s)) is None else x for s in strings], dtype=np.float64)
        is_number = ~np.isnan(numbers)
        if is_number.any():
            distinct, number_ranks = np.unique(numbers[is_number], return_inverse=True)
            ranks = ranks + len(distinct)
            ranks[is_number] = number_ranks.reshape(-1)
    return ranks


def text_sort_keys(column: TextColumn | None, n: int, numbers_first: bool = False) -> SortKeys:
    if column is None:
        return [np.zeros(n, dtype=np.int64)], np.ones(n, dtype=bool)
    ranks = np.append(string_ranks(column.uniques, numbers_first), -1)
    return [ranks[column.codes]], column.codes < 0


def _field_sort(field: str) -> Callable[[RunTable], SortKeys]:
    def keys(table: RunTable) -> SortKeys:
        (values,), missing = text_sort_keys(table.text[field], table.n)
        return [values], missing | table.text["reason"].present()
    return keys


def _name_sort(table: RunTable) -> SortKeys:
    names = table.text["run_name"]
    unreadable = table.unreadable_rows()
    ids = [run_id_of(table, i) for i in unreadable.tolist()]
    ranks = string_ranks([*names.uniques, *ids])
    values = np.append(ranks[:len(names.uniques)], -1)[names.codes]
    values[unreadable] = ranks[len(names.uniques):]
    return [values], np.zeros(table.n, dtype=bool)


def _status_sort(table: RunTable) -> SortKeys:
    statuses = table.text["status"]
    ranks = string_ranks([*statuses.uniques, UNREADABLE, ""])
    values = np.append(ranks[:len(statuses.uniques)], ranks[-1])[statuses.codes]
    values[table.text["reason"].present()] = ranks[-2]
    return [values], np.zeros(table.n, dtype=bool)


def _started_sort(table: RunTable) -> SortKeys:
    return [table.ints["start_time"]], table.text["reason"].present()


def duration_values(table: RunTable) -> tuple[np.ndarray, np.ndarray]:
    """(milliseconds, missing) per row; a RUNNING run's duration so far."""
    start, end = table.ints["start_time"], table.ints["end_time"]
    ended = end != NO_INT
    values = np.where(ended, end - start, 0).astype(np.float64)
    status = table.text["status"]
    running = np.zeros(table.n, dtype=bool)
    if "RUNNING" in status.uniques:
        running = status.codes == status.uniques.index("RUNNING")
        now = elapsed_ms(0)
        values[running & ~ended] = np.maximum(0.0, now - start[running & ~ended])
    missing = (~ended & ~running) | table.text["reason"].present()
    return values, missing


def _duration_sort(table: RunTable) -> SortKeys:
    values, missing = duration_values(table)
    return [values], missing


def _commit_sort(table: RunTable) -> SortKeys:
    return text_sort_keys(table.tags.get(COMMIT_TAG), table.n)


# ---- the fixed columns ----------------------------------------------------------------------

def _status_tip(table: RunTable, i: int) -> str:
    if is_unreadable(table, i):
        return f"Unreadable: {table.text['reason'].get(i)}"
    lines = (table.text["error"].get(i) or "").strip().splitlines()
    return status_of(table, i).capitalize() + (f"\n{lines[-1]}" if lines else "")


def _name_tip(table: RunTable, i: int) -> str:
    if is_unreadable(table, i):
        return f"Unreadable run {run_id_of(table, i)}\n{table.text['reason'].get(i)}"
    return f"{name_of(table, i)}\n{run_id_of(table, i)}"


def _commit_text(table: RunTable, i: int) -> str:
    commit = short_commit(_tag(table, COMMIT_TAG, i))
    return commit + "*" if commit and _tag(table, DIRTY_TAG, i) == "true" else commit


def _commit_tip(table: RunTable, i: int) -> str:
    commit = _tag(table, COMMIT_TAG, i)
    if not commit:
        return ""
    dirty = " (uncommitted changes)" if _tag(table, DIRTY_TAG, i) == "true" else ""
    return f"{commit}\nbranch {_tag(table, BRANCH_TAG, i) or '(detached)'}{dirty}"


def _text_of(value: Callable[[RunTable, int], Any]) -> Callable[[RunTable, int], str]:
    return lambda table, i: value(table, i) or ""


_experiment = _readable_text("experiment")
_user = _readable_text("user")

FIXED_COLUMNS: tuple[Column, ...] = (
    Column("status", "", status_of, lambda t, i: "", _status_sort, tooltip=_status_tip, export=status_of),
    Column("name", "Name", name_of, name_of, _name_sort, tooltip=_name_tip, export=name_of),
    Column("experiment", "Experiment", _experiment, _text_of(_experiment), _field_sort("experiment")),
    Column("started", "Started", _start, lambda t, i: format_time(_start(t, i), seconds=True), _started_sort,
           export=lambda t, i: format_time(_start(t, i), seconds=True)),
    Column("duration", "Duration", _duration, lambda t, i: format_duration(_duration(t, i)), _duration_sort,
           numeric=True, export=lambda t, i: None if (d := _duration(t, i)) is None else round(d / 1000, 3)),
    Column("user", "User", _user, _text_of(_user), _field_sort("user")),
    Column("commit", "Commit", lambda t, i: _tag(t, COMMIT_TAG, i), _commit_text, _commit_sort,
           tooltip=_commit_tip),
)
FIXED_KEYS = tuple(c.key for c in FIXED_COLUMNS)
_FIXED = {c.key: c for c in FIXED_COLUMNS}


def param_column(key: str) -> Column:
    def raw(table: RunTable, i: int) -> str | None:
        column = table.params.get(key)
        return None if column is None else column.get(i)

    def value(table: RunTable, i: int) -> Any:
        text = raw(table, i)
        if text is None:
            return None
        number = to_number(text)
        return text if number is None else number

    def sort_keys(table: RunTable) -> SortKeys:
        return text_sort_keys(table.params.get(key), table.n, numbers_first=True)
    return Column(f"params.{key}", key, value, lambda t, i: raw(t, i) or "", sort_keys,
                  tooltip=lambda t, i: f"param {key}", export=lambda t, i: raw(t, i) or None)


def tag_column(key: str) -> Column:
    def raw(table: RunTable, i: int) -> str | None:
        return _tag(table, key, i)

    def sort_keys(table: RunTable) -> SortKeys:
        return text_sort_keys(table.tags.get(key), table.n)
    return Column(f"tags.{key}", key, raw, lambda t, i: raw(t, i) or "", sort_keys,
                  tooltip=lambda t, i: f"tag {key}")


def metric_column(key: str) -> Column:
    def value(table: RunTable, i: int) -> float | None:
        column = table.metrics.get(key)
        if column is None or not column.present[i]:
            return None
        return float(column.arrays["value"][i])

    def tip(table: RunTable, i: int) -> str:
        column = table.metrics.get(key)
        if column is None or not column.present[i]:
            return f"metric {key}"
        a = column.arrays
        return (f"metric {key}: last {float(a['last'][i])!r} at step {int(a['last_step'][i])}\n"
                f"min {format_number(float(a['min'][i]))}, max {format_number(float(a['max'][i]))}, "
                f"{int(a['count'][i])} values")

    def sort_keys(table: RunTable) -> SortKeys:
        column = table.metrics.get(key)
        if column is None:
            return [np.zeros(table.n)], np.ones(table.n, dtype=bool)
        values = column.values()
        missing = ~column.present | np.isnan(values)
        return [np.where(missing, 0.0, values)], missing
    return Column(f"metrics.{key}", key, value, lambda t, i: format_number(value(t, i)), sort_keys,
                  numeric=True, tooltip=tip)


def column_for(key: str) -> Column:
    if key in _FIXED:
        return _FIXED[key]
    if key.startswith("params."):
        return param_column(key[len("params."):])
    if key.startswith("metrics."):
        return metric_column(key[len("metrics."):])
    if key.startswith("tags."):
        return tag_column(key[len("tags."):])
    raise KeyError(key)

"""The column types of the runs table (``tracker.index.table``).

A text column is dictionary-encoded: ``codes`` (int32, one per run, -1 where the run has no
value) index ``uniques``. The params of a sweep repeat a handful of values over thousands of
runs, so a test on a column runs once per distinct value and reaches the runs through one
numpy take; a value's number (for ``params.lr > 0.01``) is parsed once per distinct value too.

A metric column holds a run's summary of one metric key as float64/int64 arrays, with
``present`` saying which runs logged the key.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

MISSING = -1  # the code of a run without a value
NO_INT = np.iinfo(np.int64).min  # an int field without a value (an unset end_time, no pid)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan


def _parses(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class TextColumn:
    """One text value (or none) per run, dictionary-encoded."""

    __slots__ = ("codes", "_uniques", "_lookup", "_objects", "_numbers", "_ranks")

    def __init__(self, codes: np.ndarray, uniques: list[str]) -> None:
        self.codes = codes
        self._uniques = uniques
        self._lookup: dict[str, int] | None = None
        self._objects: np.ndarray | None = None  # uniques then None, as an object array
        self._numbers: np.ndarray | None = None
        self._ranks: np.ndarray | None = None

    @classmethod
    def from_values(cls, values: Iterable[str | None]) -> "TextColumn":
        lookup: dict[str, int] = {}
        codes = [MISSING if v is None else lookup.setdefault(v, len(lookup)) for v in values]
        column = cls(np.array(codes, dtype=np.int32), list(lookup))
        column._lookup = lookup
        return column

    @classmethod
    def empty(cls, n: int) -> "TextColumn":
        return cls(np.full(n, MISSING, dtype=np.int32), [])

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def uniques(self) -> list[str]:
        return self._uniques

    def get(self, i: int) -> str | None:
        code = int(self.codes[i])
        return None if code < 0 else self._uniques[code]

    def objects(self) -> np.ndarray:
        """The distinct values then None, as an object array: ``objects()[codes]`` is every run's value."""
        if self._objects is None:
            objects = np.empty(len(self._uniques) + 1, dtype=object)
            objects[:-1] = self._uniques
            self._objects = objects
        return self._objects

    def values(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The runs' values (None where missing) as an object array, for ``rows`` (default: all)."""
        codes = self.codes if rows is None else self.codes[rows]
        return self.objects()[codes]

    def present(self) -> np.ndarray:
        return self.codes >= 0

    def n_present(self) -> int:
        return int(np.count_nonzero(self.codes >= 0))

    def unique_numbers(self) -> np.ndarray:
        """Each distinct value as a float (NaN where it does not parse; see ``unique_parsed``)."""
        if self._numbers is None:
            self._numbers = np.array([_number(u) for u in self._uniques], dtype=np.float64)
        return self._numbers

    def unique_parsed(self) -> np.ndarray:
        """Which distinct values parse as numbers ('nan' does, and is NaN)."""
        numbers = self.unique_numbers()
        parsed = ~np.isnan(numbers)
        if not parsed.all():
            nan_texts = np.flatnonzero(~parsed)
            parsed[nan_texts] = [_parses(self._uniques[i]) for i in nan_texts.tolist()]
        return parsed

    def used_codes(self) -> np.ndarray:
        """The codes some run has (a table made by ``take`` keeps every distinct value of its source)."""
        # (bincount rather than np.unique: the same sorted codes in linear time, and np.unique
        # imports numpy.ma on its first call, ~18 ms of a process's first search)
        return np.flatnonzero(np.bincount(self.codes[self.codes >= 0], minlength=len(self._uniques)))

    def numbers(self) -> np.ndarray:
        """Every run's value as a float64: NaN where missing or not a number."""
        table = np.append(self.unique_numbers(), np.nan)
        return table[self.codes]

    def unique_ranks(self) -> np.ndarray:
        """The rank of each distinct value in sorted (code point) order, then one past the last for missing."""
        if self._ranks is None:
            order = sorted(range(len(self._uniques)), key=self._uniques.__getitem__)
            ranks = np.empty(len(self._uniques) + 1, dtype=np.int64)
            ranks[order] = np.arange(len(order))
            ranks[-1] = len(order)
            self._ranks = ranks
        return self._ranks

    def code_of(self, value: str) -> int:
        """The code of ``value``, added to the distinct values when new (the column is then changed)."""
        if self._lookup is None:
            self._lookup = {v: n for n, v in enumerate(self._uniques)}
        code = self._lookup.get(value)
        if code is None:
            code = self._lookup[value] = len(self._uniques)
            self._uniques.append(value)
            self._objects = self._numbers = self._ranks = None
        return code

    def codes_for(self, other: "TextColumn") -> np.ndarray:
        """``other``'s codes translated to this column's (its distinct values are added here)."""
        mapping = np.array([self.code_of(v) for v in other.uniques] + [MISSING], dtype=np.int32)
        return mapping[other.codes]

    def take(self, rows: np.ndarray) -> "TextColumn":
        """The column of ``rows``, keeping only the distinct values they use (a new list: tables
        share no mutable state, and values of runs that went do not pile up)."""
        codes = self.codes[rows]
        used = np.zeros(len(self._uniques) + 1, dtype=bool)
        used[codes] = True  # (-1, no value, marks the extra last slot)
        kept = np.flatnonzero(used[:-1])
        if len(kept) == len(self._uniques):
            return TextColumn(codes, list(self._uniques))
        mapping = np.full(len(self._uniques) + 1, MISSING, dtype=np.int32)
        mapping[kept] = np.arange(len(kept), dtype=np.int32)
        uniques = self._uniques
        return TextColumn(mapping[codes], [uniques[i] for i in kept.tolist()])

    def assign(self, rows: np.ndarray, other: "TextColumn | None", other_rows: np.ndarray) -> None:
        """Set ``rows`` to ``other``'s values at ``other_rows`` (no value where ``other`` is None)."""
        if other is None:
            self.codes[rows] = MISSING
            return
        self.codes[rows] = self.codes_for(other)[other_rows]

    def copy(self) -> "TextColumn":
        return TextColumn(self.codes.copy(), list(self._uniques))


METRIC_FLOATS = ("last", "min", "max", "value")  # value: at the highest step (MLflow's latest value)
METRIC_INTS = ("count", "last_step", "last_timestamp", "max_step")


class MetricColumn:
    """One metric's summary per run: ``present`` plus float64 and int64 arrays (see METRIC_*)."""

    __slots__ = ("present", "arrays")

    def __init__(self, present: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
        self.present = present
        self.arrays = arrays

    @classmethod
    def empty(cls, n: int) -> "MetricColumn":
        arrays = {name: np.full(n, np.nan) for name in METRIC_FLOATS}
        arrays.update({name: np.zeros(n, dtype=np.int64) for name in METRIC_INTS})
        return cls(np.zeros(n, dtype=bool), arrays)

    @classmethod
    def from_rows(cls, n: int, rows: Sequence[int], floats: Sequence[float], ints: Sequence[int]) -> "MetricColumn":
        """``n`` runs, of which ``rows`` have a summary: ``floats`` holds each one's ``(last, min, max,
        value)`` in turn, ``ints`` its ``(count, last_step, last_timestamp, max_step)``."""
        column = cls.empty(n)
        if rows:
            at = np.asarray(rows, dtype=np.int64)
            column.present[at] = True
            # one conversion per kind for all the rows (ints stay int64: exact)
            floats = np.array(floats, dtype=np.float64).reshape(len(rows), len(METRIC_FLOATS))
            ints = np.array(ints, dtype=np.int64).reshape(len(rows), len(METRIC_INTS))
            for j, name in enumerate(METRIC_FLOATS):
                column.arrays[name][at] = floats[:, j]
            for j, name in enumerate(METRIC_INTS):
                column.arrays[name][at] = ints[:, j]
        return column

    def __len__(self) -> int:
        return len(self.present)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def values(self) -> np.ndarray:
        """The value at the highest step per run, NaN where missing (a logged NaN is NaN too: see ``present``)."""
        return self.arrays["value"]

    def summary(self, i: int) -> tuple | None:
        if not self.present[i]:
            return None
        return tuple(self.arrays[name][i].item() for name in METRIC_FLOATS + METRIC_INTS)

    def take(self, rows: np.ndarray) -> "MetricColumn":
        return MetricColumn(self.present[rows], {k: a[rows] for k, a in self.arrays.items()})

    def assign(self, rows: np.ndarray, other: "MetricColumn | None", other_rows: np.ndarray) -> None:
        """Set ``rows`` to ``other``'s summaries at ``other_rows`` (none where ``other`` is None)."""
        if other is None:
            self.present[rows] = False
            return
        self.present[rows] = other.present[other_rows]
        for k, a in self.arrays.items():
            a[rows] = other.arrays[k][other_rows]

    def copy(self) -> "MetricColumn":
        return MetricColumn(self.present.copy(), {k: a.copy() for k, a in self.arrays.items()})


def concat_texts(parts: list[TextColumn | None], sizes: list[int]) -> TextColumn:
    """The runs of each part in turn, into one column (a part None: none of its runs has the key)."""
    lookup: dict[str, int] = {}
    codes = np.empty(sum(sizes), dtype=np.int32)
    at = 0
    first = parts[0]
    if first is not None:  # its codes stay as they are: runs added to a big table copy its lookup, not rebuild it
        lookup = dict(first._lookup) if first._lookup is not None else {u: i for i, u in enumerate(first.uniques)}
        codes[:sizes[0]] = first.codes
        at, parts, sizes = sizes[0], parts[1:], sizes[1:]
    for part, size in zip(parts, sizes):
        if part is None:
            codes[at:at + size] = MISSING
        else:  # its codes through a map of its distinct values to the joined ones (-1 maps to -1)
            remap = np.array([lookup.setdefault(u, len(lookup)) for u in part.uniques] + [MISSING], dtype=np.int32)
            codes[at:at + size] = remap[part.codes]
        at += size
    column = TextColumn(codes, list(lookup))
    column._lookup = lookup
    return column


def concat_metrics(parts: list[MetricColumn | None], sizes: list[int]) -> MetricColumn:
    """The runs of each part in turn, into one column (a part None: none of its runs has the metric)."""
    parts = [p if p is not None else MetricColumn.empty(size) for p, size in zip(parts, sizes)]
    return MetricColumn(np.concatenate([p.present for p in parts]),
                        {k: np.concatenate([p.arrays[k] for p in parts]) for k in parts[0].arrays})

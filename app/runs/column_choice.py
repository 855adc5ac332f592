"""Which param, metric and tag columns the runs table shows for the experiment on screen
(no Qt here).

Until the user picks columns for an experiment, it shows that experiment's most common keys
(three params and three metrics, by how many of its newest runs have them), and keys that runs
log later fill free places as they appear; shown ones keep their place. A choice the user
makes is kept per experiment ("" is "all runs") and wins from then on.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from tracker.index import RunTable

KINDS = ("params", "metrics", "tags")
TOP_PARAMS = 3
TOP_METRICS = 3
SAMPLE = 2000  # the newest runs of an experiment its top keys are counted over
_REMEMBERED = 200  # experiments whose choices are kept


def experiment_rows(table: RunTable, experiment: str | None, newest: int | None = None) -> np.ndarray:
    """The readable rows of ``experiment`` (None: every experiment), the ``newest`` ones when given."""
    keep = ~table.text["reason"].present()
    if experiment is not None:
        column = table.text["experiment"]
        same = np.array([u == experiment for u in column.uniques] + [False], dtype=bool)
        keep &= same[column.codes]
    rows = np.flatnonzero(keep)
    if newest is not None and len(rows) > newest:
        starts = table.ints["start_time"][rows]
        rows = rows[np.argpartition(-starts, newest - 1)[:newest]]
    return rows


def key_counts(table: RunTable, rows: np.ndarray, kinds: tuple[str, ...] = KINDS) -> dict[str, dict[str, int]]:
    """For each kind, each key that some of ``rows`` have, with how many have it."""
    out: dict[str, dict[str, int]] = {}
    for kind in kinds:
        columns = getattr(table, kind)
        counts = {}
        for key, column in columns.items():
            present = column.present[rows] if kind == "metrics" else column.codes[rows] >= 0
            count = int(np.count_nonzero(present))
            if count:
                counts[key] = count
        out[kind] = counts
    return out


def _top(counts: dict[str, int], n: int) -> list[str]:
    return sorted(counts, key=lambda k: (-counts[k], k.lower()))[:n]


def top_columns(table: RunTable, experiment: str | None, shown: list[str] = (),
                params: int = TOP_PARAMS, metrics: int = TOP_METRICS) -> list[str]:
    """The experiment's most common params and metrics as column keys; the ``shown`` ones that
    it still has keep their place and new keys only fill what is free."""
    counts = key_counts(table, experiment_rows(table, experiment, SAMPLE), ("params", "metrics"))
    out = []
    for kind, limit in (("params", params), ("metrics", metrics)):
        prefix = kind + "."
        kept = [k for k in shown if k.startswith(prefix) and k[len(prefix):] in counts[kind]][:limit]
        have = {k[len(prefix):] for k in kept}
        fresh = [prefix + k for k in _top({k: c for k, c in counts[kind].items() if k not in have},
                                          limit - len(kept))]
        out += kept + fresh
    return out


class ColumnChoices:
    """The columns the user picked, per experiment ("" for all runs), most recent last."""

    def __init__(self) -> None:
        self._chosen: dict[str, list[str]] = {}

    @staticmethod
    def _key(experiment: str | None) -> str:
        return "" if experiment is None else experiment

    def chosen(self, experiment: str | None) -> list[str] | None:
        return self._chosen.get(self._key(experiment))

    def choose(self, experiment: str | None, keys: list[str]) -> None:
        key = self._key(experiment)
        self._chosen.pop(key, None)
        self._chosen[key] = list(keys)
        while len(self._chosen) > _REMEMBERED:
            del self._chosen[next(iter(self._chosen))]

    def forget(self, experiment: str | None) -> None:
        self._chosen.pop(self._key(experiment), None)

    def columns_for(self, table: RunTable, experiment: str | None, shown: list[str]) -> list[str]:
        chosen = self.chosen(experiment)
        return list(chosen) if chosen is not None else top_columns(table, experiment, shown)

    def state(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._chosen.items()}

    def restore(self, state: Any) -> None:
        """From ``state()`` as saved; anything malformed is left out."""
        self._chosen = {}
        if isinstance(state, dict):
            for experiment, keys in state.items():
                if isinstance(experiment, str) and isinstance(keys, list):
                    self._chosen[experiment] = [k for k in keys if isinstance(k, str)
                                                and k.startswith(tuple(f"{kind}." for kind in KINDS))]

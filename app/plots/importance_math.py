"""Which params matter for a metric: permutation importance of a random forest, as W&B shows it.

Pure numpy and scikit-learn (imported when first asked for, off the GUI thread): no Qt here,
so the compare view runs it in its worker and the bench runs it as is.

Each param becomes one numeric column (values that all read as numbers; a run without it
gets a value below all others and a 1 in a "missing" column beside it, so any scikit-learn
version's forests can split it off) or one-hot columns (anything else, missing runs being all
zeros). A forest learns the metric from them; a param's importance is how much
the forest's R² drops when that param's columns are shuffled together across runs (a one-hot
group moves as one, so a categorical param is not split into pieces). The sign is that of the
param's linear correlation with the metric, for numeric params.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from app.common.formatting import to_number

MIN_RUNS = 5  # fewer runs than this say nothing a forest could learn
MAX_CATEGORIES = 30  # one-hot columns per param; rarer values share one "other" column
TREES = 60
REPEATS = 4


@dataclass
class ParamImportance:
    param: str
    importance: float  # drop in R² when shuffled (0 when shuffling does not hurt)
    correlation: float | None  # Pearson's r with the metric, numeric params only


@dataclass
class Importance:
    metric: str
    runs: int  # runs that have the metric (finite), the ones used
    params: list[ParamImportance] = field(default_factory=list)  # most important first
    message: str = ""  # why there are no numbers, when there are none
    score: float = math.nan  # the forest's R² on those runs


def encode(params: list[dict], keys: list[str]) -> tuple[np.ndarray, list[list[int]], dict[str, np.ndarray]]:
    """The design matrix, each key's column indices in it, and the numeric keys' columns."""
    columns: list[np.ndarray] = []
    groups: list[list[int]] = []
    numeric: dict[str, np.ndarray] = {}
    n = len(params)
    for key in keys:
        raw = [p.get(key) for p in params]
        numbers = [None if v is None else to_number(v) if isinstance(v, str) else v for v in raw]
        is_numeric = all(v is None or (isinstance(x, int | float) and math.isfinite(x))
                         for v, x in zip(raw, numbers))
        if is_numeric:
            col = np.array([np.nan if x is None else float(x) for x in numbers])
            numeric[key] = col
            missing = np.isnan(col)
            group = [len(columns)]
            if missing.any():
                present = col[~missing]
                low = present.min() - max(present.max() - present.min(), 1.0) if len(present) else 0.0
                col = np.where(missing, low, col)
                group.append(len(columns) + 1)
            columns.append(col)
            if missing.any():
                columns.append(missing.astype(float))
            groups.append(group)
            continue
        text = np.array(["" if v is None else str(v) for v in raw], dtype=object)
        values, counts = np.unique(text[text != ""], return_counts=True)
        order = values[np.argsort(-counts, kind="stable")]
        kept = list(order[:MAX_CATEGORIES - 1]) if len(order) > MAX_CATEGORIES else list(order)
        group = []
        for value in kept:
            group.append(len(columns))
            columns.append((text == value).astype(float))
        if len(order) > len(kept):
            group.append(len(columns))
            columns.append(((text != "") & ~np.isin(text, kept)).astype(float))
        groups.append(group)
    matrix = np.column_stack(columns) if columns else np.zeros((n, 0))
    return matrix, groups, numeric


def param_importance(params: list[dict], target, metric: str = "", *, seed: int = 0) -> Importance:
    """Rank the params of runs (``params[i]`` the i-th run's params) by how much they explain
    ``target[i]`` (the metric); runs whose metric is missing or not finite are left out."""
    y_all = np.array([np.nan if v is None else float(v) for v in target], dtype=float)
    use = np.isfinite(y_all)
    rows = [p for p, u in zip(params, use) if u]
    y = y_all[use]
    result = Importance(metric, len(rows))
    if len(rows) < MIN_RUNS:
        result.message = (f"Needs at least {MIN_RUNS} runs with {metric or 'the metric'}; "
                          f"{len(rows)} {'has' if len(rows) == 1 else 'have'} it.")
        return result
    keys = sorted({k for p in rows for k in p})
    varying = [k for k in keys if len({str(p.get(k)) for p in rows}) > 1]
    if not varying:
        result.message = f"No param varies across these {len(rows)} runs."
        return result
    if y.max() == y.min():
        result.message = f"{metric or 'The metric'} is the same in all {len(rows)} runs."
        return result
    from sklearn.ensemble import RandomForestRegressor  # ~0.5 s to import: only when asked
    from sklearn.metrics import r2_score

    x, groups, numeric = encode(rows, varying)
    forest = RandomForestRegressor(n_estimators=TREES, max_features=0.5, min_samples_leaf=2,
                                   random_state=seed, n_jobs=1).fit(x, y)
    base = r2_score(y, forest.predict(x))
    rng = np.random.default_rng(seed)
    n = len(y)
    # every shuffled copy predicted in one call: one pass over the trees instead of one per copy
    shuffled = np.empty((len(groups) * REPEATS * n, x.shape[1]))
    for g, cols in enumerate(groups):
        for r in range(REPEATS):
            block = shuffled[(g * REPEATS + r) * n:(g * REPEATS + r + 1) * n]
            block[:] = x
            block[:, cols] = x[rng.permutation(n)][:, cols]
    predicted = forest.predict(shuffled).reshape(len(groups), REPEATS, n)
    drops = [base - np.mean([r2_score(y, predicted[g, r]) for r in range(REPEATS)]) for g in range(len(groups))]
    for key, drop in zip(varying, drops):
        result.params.append(ParamImportance(key, max(float(drop), 0.0), _correlation(numeric.get(key), y)))
    result.params.sort(key=lambda p: (-p.importance, p.param))
    result.score = float(base)
    return result


def _correlation(column: np.ndarray | None, y: np.ndarray) -> float | None:
    if column is None:
        return None
    has = np.isfinite(column)
    if has.sum() < 3 or column[has].max() == column[has].min() or y[has].max() == y[has].min():
        return None
    return float(np.corrcoef(column[has], y[has])[0, 1])


__all__ = ["MIN_RUNS", "Importance", "ParamImportance", "encode", "param_importance"]

"""MLflow's metric lines: ``"<timestamp ms> <value> <step>\\n"`` (old stores: no step, read as 0).

Only complete lines are read: the last line may be half-written while MLflow appends, so a
reader stops before it and a later read resumes from the returned byte position.
"""
from __future__ import annotations

from ..store.metricfile import MetricSeries

_MIN, _MAX = -(1 << 63), (1 << 63) - 1  # steps and timestamps are int64, as in MLflow


def parse_metric_lines(data: bytes, strict: bool, key: str = "") -> tuple[list[int], list[int], list[float], int]:
    """(steps, timestamps, values, bytes consumed) of the complete lines in ``data``.

    A damaged line raises ValueError when ``strict``; otherwise reading stops before it.
    """
    end = data.rfind(b"\n") + 1
    rows = [line.split(b" ") for line in data[:end].split(b"\n")[:-1]]
    if rows and all(len(r) == 3 for r in rows):  # the common case, converted at C speed
        try:
            stamps_, values_, steps_ = zip(*rows)
            stamps, values, steps = list(map(int, stamps_)), list(map(float, values_)), list(map(int, steps_))
            if min(stamps) >= _MIN and max(stamps) <= _MAX and min(steps) >= _MIN and max(steps) <= _MAX:
                return steps, stamps, values, end
        except ValueError:
            pass  # find the damaged line below
    steps = []
    stamps = []
    values = []
    offset = 0
    for line in data[:end].split(b"\n")[:-1]:
        fields = line.split()
        try:
            if len(fields) == 3:
                ts, value, step = int(fields[0]), float(fields[1]), int(fields[2])
            elif len(fields) == 2:
                ts, value, step = int(fields[0]), float(fields[1]), 0
            else:
                raise ValueError
            if not (_MIN <= ts <= _MAX and _MIN <= step <= _MAX):
                raise ValueError
        except ValueError:
            if strict:
                shown = line[:60].decode("utf-8", errors="replace")
                raise ValueError(f"metric {key!r} has a damaged line {len(steps) + 1}: {shown!r}") from None
            return steps, stamps, values, offset
        steps.append(step)
        stamps.append(ts)
        values.append(value)
        offset += len(line) + 1
    return steps, stamps, values, offset


def series_from_lines(data: bytes, position: int) -> MetricSeries:
    """The points in ``data`` (read from byte ``position`` of a metric file) as a MetricSeries."""
    import numpy as np
    steps, stamps, values, consumed = parse_metric_lines(data, strict=False)
    return MetricSeries(np.array(steps, dtype=np.int64), np.array(stamps, dtype=np.int64),
                        np.array(values, dtype=np.float64), position + consumed)

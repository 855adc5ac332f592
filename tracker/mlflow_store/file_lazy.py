"""A file store run's params, tags and metrics read when first asked for (``scan(deferred=True)``).

An MLflow file store keeps one file per param, tag and metric: about 13 files a run, 130,000 for
10,000 runs, most of the time of listing them. A deferred scan reads only each run's meta.yaml and
the few tags its info needs (name, parent, note, user); the rest is read on first access through
``entities.Deferred``, as tracker's own index hands out its runs' dicts. Deferred reads never
raise (an app's table model reads them): an unreadable file is left out and a damaged metric
file reads up to its first bad line. ``get_run`` and the plain ``scan()`` read strictly and say
what is damaged.
"""
from __future__ import annotations

import os

from ..entities import MetricSummary
from . import files, mapping
from .metric_lines import parse_metric_lines

INFO_TAGS = (mapping.TAG_RUN_NAME, mapping.TAG_PARENT, mapping.TAG_NOTE, mapping.TAG_USER)


def info_tags(run_path: str) -> dict[str, str]:
    """The tags RunInfo is made of, read one file each (most runs lack some: no file, no cost)."""
    out = {}
    folder = os.path.join(run_path, "tags")
    for key in INFO_TAGS:
        try:
            out[key] = files.read_small(os.path.join(folder, key)).decode("utf-8")
        except (OSError, ValueError):
            continue
    return out


def key_values(folder: str) -> dict[str, str]:
    out = {}
    for key, path in files.key_files(folder):
        try:
            out[key] = files.read_small(path).decode("utf-8")
        except (OSError, ValueError):
            continue
    return out


def params(run_path: str) -> dict[str, str]:
    return key_values(os.path.join(run_path, "params"))


def tags(run_path: str) -> dict[str, str]:
    return mapping.with_tracker_tags(key_values(os.path.join(run_path, "tags")))


class RunMetrics:
    """One run's metric summaries, read once for both ``metrics`` and ``summaries`` (picklable)."""

    def __init__(self, run_path: str) -> None:
        self.run_path = run_path
        self._summaries: dict[str, MetricSummary] | None = None

    def summaries(self) -> dict[str, MetricSummary]:
        if self._summaries is None:
            out = {}
            for key, path in files.key_files(os.path.join(self.run_path, "metrics")):
                try:
                    steps, stamps, values, _ = parse_metric_lines(files.read_bytes(path), strict=False, key=key)
                except (OSError, ValueError):
                    continue
                if values:
                    out[key] = mapping.summarize(key, steps, stamps, values)
            self._summaries = out
        return self._summaries

    def latest(self) -> dict[str, float]:
        return {key: s.last for key, s in self.summaries().items()}

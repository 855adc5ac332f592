"""Plain objects that ``tracker`` hands to everyone else (scripts, the CLI, the app).

They mirror MLflow's entities (``Run``, ``RunInfo``, ``RunData``, ``Metric``) so that code
written against MLflow reads the same. None of them touch the disk.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RunStatus:
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    ALL = (RUNNING, FINISHED, FAILED, KILLED)


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int
    timestamp: int  # milliseconds since the epoch, as MLflow


@dataclass(frozen=True)
class MetricSummary:
    """What listing needs of a metric without reading its history."""

    key: str
    last: float
    min: float
    max: float
    count: int
    last_step: int
    last_timestamp: int


@dataclass
class RunInfo:
    run_id: str
    run_name: str
    experiment: str
    status: str
    start_time: int  # ms since the epoch
    end_time: int | None
    artifact_uri: str
    parent_run_id: str | None = None
    description: str = ""
    user: str = ""
    host: str = ""
    pid: int | None = None
    error: str | None = None  # the exception that made the run FAILED, when there was one

    @property
    def duration_ms(self) -> int | None:
        if self.end_time is None:
            return None
        return self.end_time - self.start_time


@dataclass
class RunData:
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # latest value per key
    summaries: dict[str, MetricSummary] = field(default_factory=dict)


@dataclass
class Run:
    info: RunInfo
    data: RunData
    path: str = ""  # the run's directory on disk

    def __repr__(self) -> str:
        return f"<Run {self.info.run_id[:8]} {self.info.run_name!r} {self.info.status}>"


@dataclass(frozen=True)
class UnreadableRun:
    """A run directory that could not be read; listed, never fatal for the others."""

    run_id: str
    path: str
    reason: str


@dataclass(frozen=True)
class Experiment:
    name: str
    creation_time: int
    run_count: int = 0
    tags: dict[str, Any] = field(default_factory=dict)

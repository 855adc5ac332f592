"""Plain objects that ``tracker`` hands to everyone else (scripts, the CLI, the app).

They mirror MLflow's entities (``Run``, ``RunInfo``, ``RunData``, ``Metric``) so that code
written against MLflow reads the same. None of them touch the disk.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RunStatus:
    """A run's status. The members are the names themselves (MLflow's are numbers that
    ``to_string`` names): ``to_string``/``from_string`` take either form."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    ALL = (RUNNING, FINISHED, FAILED, KILLED)  # what a run of this library can be
    _NUMBERS = {1: RUNNING, 2: SCHEDULED, 3: FINISHED, 4: FAILED, 5: KILLED}  # MLflow's proto values

    @classmethod
    def to_string(cls, status: "str | int") -> str:
        name = cls._NUMBERS.get(status) if type(status) is int else status
        if name not in cls._NUMBERS.values():
            raise ValueError(f"Could not get string corresponding to run status {status!r}")
        return name

    @classmethod
    def from_string(cls, status_str: str) -> str:
        if status_str not in cls._NUMBERS.values():
            raise ValueError(f"Could not get run status corresponding to string {status_str}. "
                             f"Valid run status strings: {list(cls._NUMBERS.values())}")
        return status_str

    @classmethod
    def is_terminated(cls, status: "str | int") -> bool:
        return cls.to_string(status) in (cls.FINISHED, cls.FAILED, cls.KILLED)

    @classmethod
    def all_status(cls) -> list[str]:
        return list(cls._NUMBERS.values())


class ViewType:
    """Which runs or experiments a search returns, by lifecycle stage (MLflow's values)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3
    _NAMES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}

    @classmethod
    def from_string(cls, view_str: str) -> int:
        if view_str not in cls._NAMES:
            raise ValueError(f"Could not get valid view type corresponding to string {view_str}. "
                             f"Valid view types are {list(cls._NAMES)}")
        return cls._NAMES[view_str]

    @classmethod
    def to_string(cls, view_type: int) -> str:
        for name, value in cls._NAMES.items():
            if value == view_type:
                return name
        raise ValueError(f"Invalid view type {view_type!r}")

    @classmethod
    def stages(cls, view_type: int) -> tuple[str, ...]:
        """The lifecycle stages ``view_type`` selects."""
        if view_type == cls.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if view_type == cls.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        if view_type == cls.ALL:
            return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
        raise ValueError(f"Invalid view type {view_type!r}; use ViewType.ACTIVE_ONLY, DELETED_ONLY or ALL")


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True)
class Metric:
    """One logged point, in MLflow's argument order: ``Metric(key, value, timestamp, step)``."""

    key: str
    value: float
    timestamp: int  # milliseconds since the epoch, as MLflow
    step: int = 0
    run_id: str | None = None


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True)
class ExperimentTag:
    key: str
    value: str


@dataclass
class MetricSummary:
    """What listing needs of a metric without reading its history.

    Not frozen: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``,
    ~4x the time, and a search returning 1,000 runs of 10 metrics makes 10,000 of these."""

    key: str
    last: float
    min: float
    max: float
    count: int
    last_step: int
    last_timestamp: int
    max_step: int | None = None  # the highest step logged, and the value there (MLflow's latest value)
    value_at_max_step: float | None = None

    def __post_init__(self) -> None:
        if self.max_step is None:  # a summary that predates the pair: the last point stands for it
            self.max_step = self.last_step
            self.value_at_max_step = self.last


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
    experiment_id: str = ""
    lifecycle_stage: str = "active"

    @property
    def run_uuid(self) -> str:  # MLflow's older name for run_id
        return self.run_id

    @property
    def user_id(self) -> str:
        return self.user

    @property
    def duration_ms(self) -> int | None:
        if self.end_time is None:
            return None
        return self.end_time - self.start_time


@dataclass
class RunData:
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # the value at the highest step, per key
    summaries: dict[str, MetricSummary] = field(default_factory=dict)

    def to_dictionary(self) -> dict[str, dict[str, Any]]:
        """MLflow's form: ``{"metrics": ..., "params": ..., "tags": ...}``."""
        return {"metrics": dict(self.metrics), "params": dict(self.params), "tags": dict(self.tags)}


@dataclass
class Run:
    info: RunInfo
    data: RunData
    path: str = ""  # the run's directory on disk

    @property
    def inputs(self) -> Any:
        """MLflow's ``run.inputs``: ``dataset_inputs`` logged by ``log_input``, read from the run folder."""
        from .data import run_inputs
        return run_inputs(self.path)

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's form: ``{"info": {run_id, run_uuid, experiment_id, ...}, "data": {...}}``."""
        i = self.info
        info = {"run_id": i.run_id, "run_uuid": i.run_id, "run_name": i.run_name, "experiment_id": i.experiment_id,
                "user_id": i.user, "status": i.status, "start_time": i.start_time, "end_time": i.end_time,
                "artifact_uri": i.artifact_uri, "lifecycle_stage": i.lifecycle_stage}
        return {"info": info, "data": self.data.to_dictionary()}

    def __repr__(self) -> str:
        return f"<Run {self.info.run_id[:8]} {self.info.run_name!r} {self.info.status}>"


DUPLICATE_REASON = "duplicate run id "  # how the reason of a copied run folder begins


@dataclass(frozen=True)
class UnreadableRun:
    """A run directory that could not be read; listed, never fatal for the others.

    ``run_id`` is the directory's name. A copy of another run's folder (the same run id
    inside, another folder name) is one too: its reason names the run and the original's path.
    """

    run_id: str
    path: str
    reason: str

    @property
    def is_duplicate(self) -> bool:
        return self.reason.startswith(DUPLICATE_REASON)


@dataclass(frozen=True)
class Experiment:
    """An experiment with MLflow's fields; ``run_count`` (its active runs) is this library's."""

    name: str
    creation_time: int
    run_count: int = 0
    tags: dict[str, Any] = field(default_factory=dict)
    experiment_id: str = ""
    artifact_location: str = ""
    lifecycle_stage: str = LifecycleStage.ACTIVE
    last_update_time: int | None = None


@dataclass(frozen=True)
class FileInfo:
    """One entry of a run's artifacts, as MLflow's ``FileInfo``: ``path`` relative to the
    artifact root (with ``/``), ``file_size`` in bytes (None for a folder)."""

    path: str
    is_dir: bool
    file_size: int | None = None

"""Plain registry objects (MLflow's names) and the rules for names, stages and aliases.

Nothing here touches the database or the disk; the app and the CLI get these objects only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED = "None", "Staging", "Production", "Archived"
STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
_STAGE_BY_KEY = {s.lower(): s for s in STAGES}

MAX_NAME_LENGTH = 255
MAX_ALIAS_LENGTH = 255
_ALIAS_RE = re.compile(r"^[\w-]+$")
_RESERVED_ALIAS_RE = re.compile(r"^v\d+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# ------------------------------------------------------------------------------------ errors

class RegistryError(Exception):
    """Base of every registry error."""


class RegistryNotFoundError(RegistryError, LookupError):
    """An unknown (or deleted) model, version or alias; the message lists the valid choices."""


class ModelNotFoundError(RegistryNotFoundError):
    pass


class ModelVersionNotFoundError(RegistryNotFoundError):
    pass


class AliasNotFoundError(RegistryNotFoundError):
    pass


class RegistryDamagedError(RegistryError):
    """The registry database cannot be read: its file is damaged (the runs are not affected)."""


class ModelExistsError(RegistryError, ValueError):
    """``create_registered_model`` or a rename to a name that is taken (deleted models keep theirs)."""


# --------------------------------------------------------------------------------- validation

def validate_name(name: object, what: str = "model name") -> str:
    """Model names: text, 1..255 characters, no ``/``, no control characters."""
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a string, got {type(name).__name__}: {name!r}")
    if not name or not name.strip():
        raise ValueError(f"{what} must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"{what} {name[:40]!r}... is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}")
    if "/" in name:
        raise ValueError(f"{what} {name!r} must not contain '/'")
    if _CONTROL_RE.search(name):
        raise ValueError(f"{what} {name!r} must not contain control characters")
    return name


def name_key(name: str) -> str:
    """What two model names share when they differ only in case or punctuation: ``"Fraud-Model"``,
    ``"fraud_model"`` and ``"fraud model"`` all give ``"fraudmodel"``. Letters and digits of any
    script count; everything else (separators, punctuation, spaces) does not."""
    return "".join(c for c in name.casefold() if c.isalnum())


def similar_names(name: str, existing: "Iterable[str]") -> list[str]:
    """The names in ``existing`` that differ from ``name`` only in case or punctuation (not ``name``
    itself): a new model called ``name`` would likely be a mistaken copy of one of them."""
    key = name_key(name)
    if not key:
        return []
    return sorted({other for other in existing if other != name and name_key(other) == key}, key=str.lower)


def validate_tag_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"tag key must be a non-empty string, got {key!r}")
    if len(key) > 250 or "\x00" in key:
        raise ValueError(f"tag key {key[:40]!r} is longer than 250 characters or contains NUL")
    return key


def normalize_stage(stage: object) -> str:
    """``"production"``, ``"PRODUCTION"`` -> ``"Production"``; None -> ``"None"``; else ValueError."""
    if stage is None:
        return STAGE_NONE
    canonical = _STAGE_BY_KEY.get(str(stage).strip().lower())
    if canonical is None:
        raise ValueError(f"unknown stage {stage!r}; valid stages (any case): {', '.join(STAGES)}")
    return canonical


def validate_alias(alias: object) -> str:
    """MLflow's rules: ``^[\\w-]+$``, at most 255 characters, ``latest`` and ``v<digits>`` reserved."""
    if not isinstance(alias, str) or not alias:
        raise ValueError(f"alias must be a non-empty string, got {alias!r}")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise ValueError(f"alias {alias[:40]!r}... is {len(alias)} characters long; the limit is {MAX_ALIAS_LENGTH}")
    if not _ALIAS_RE.match(alias):
        raise ValueError(f"alias {alias!r} may only contain letters, digits, '_' and '-'")
    if alias.lower() == "latest" or _RESERVED_ALIAS_RE.match(alias.lower()):
        raise ValueError(f"alias {alias!r} is reserved ('latest' and 'v<number>' name versions already)")
    return alias


def parse_version(version: object) -> int:
    """Versions are positive integers; ``"3"`` is accepted as MLflow passes strings."""
    if isinstance(version, bool):
        raise ValueError(f"version must be a positive integer, got {version!r}")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isdigit():
        number = int(version.strip())
    else:
        raise ValueError(f"version must be a positive integer, got {version!r}")
    if number < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}")
    return number


# ----------------------------------------------------------------------------------- entities

@dataclass(frozen=True)
class ModelVersion:
    """One registered version (MLflow's ``ModelVersion``; ``version`` is an int here)."""

    name: str
    version: int
    current_stage: str = STAGE_NONE
    aliases: list[str] = field(default_factory=list)
    run_id: str | None = None
    source: str = ""
    description: str = ""
    creation_timestamp: int = 0  # ms since the epoch
    last_updated_timestamp: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    user: str = ""
    experiment: str | None = None
    run_link: str | None = None
    """How ``run_id`` was found: "run" (the source was in the run's artifacts), "sha256" (a run's
    artifacts hold a file with the same content), "manifest" (the model's manifest names the run),
    "model" (copied from another registered version), or None (no known run)."""
    storage_path: str = ""
    """The registered copy (a file or a directory) under ``<tracking dir>/registry/``."""
    deleted: bool = False
    trusted_types: list[str] = field(default_factory=list)
    """skops types the person who registered this version trusted; ``load_model`` of it adds them."""
    trust_pickle: bool = False
    """Whether that person allowed this version's pickle/joblib file to be loaded (it runs code)."""

    @property
    def status(self) -> str:  # MLflow's ModelVersionStatus; copies are complete before they are visible
        return "READY"

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    creation_timestamp: int = 0
    last_updated_timestamp: int = 0
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)
    """As MLflow: for each stage that has versions, the highest version in it."""
    latest_version: int | None = None
    version_count: int = 0
    stage_versions: dict[str, list[int]] = field(default_factory=dict)
    """Every (visible) version number per stage, highest first; only stages that have versions."""
    deleted: bool = False

    def versions_in(self, stage: str) -> list[int]:
        return self.stage_versions.get(normalize_stage(stage), [])

    def archived_aliases(self) -> dict[str, int]:
        """Aliases that point at an Archived version ({alias: version}): scripts loading
        ``models:/name@alias`` still get that version, which is rarely what was meant."""
        archived = set(self.stage_versions.get(STAGE_ARCHIVED, []))
        return {alias: number for alias, number in sorted(self.aliases.items()) if number in archived}


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the audit log. ``version`` is None for model-level actions.

    Actions: create_model, register, stage, alias_set, alias_delete, description, tag_set,
    tag_delete, rename, delete, restore. ``key`` is the alias or tag name where there is one.
    """

    id: int
    name: str
    version: int | None
    action: str
    from_value: str | None
    to_value: str | None
    user: str
    timestamp: int
    comment: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class ArtifactMatch:
    """A file in a run's artifacts (reverse lookup by sha256)."""

    run_id: str
    artifact_path: str
    start_time: int = 0


@dataclass(frozen=True)
class Lineage:
    """Where a version came from: a snapshot taken at registration, so it outlives the run."""

    name: str
    version: int
    source: str
    run_id: str | None
    run_link: str | None
    run_exists: bool
    """Whether the run's directory is still there now (the snapshot below stays either way)."""
    run_artifact_path: str | None = None
    run_name: str | None = None
    run_status: str | None = None
    run_start_time: int | None = None
    run_end_time: int | None = None
    experiment: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    git_commit: str | None = None
    git_branch: str | None = None
    git_repo_url: str | None = None
    git_dirty: bool | None = None
    git_diff_artifact: str | None = None
    git_diff: str | None = None
    """The diff text itself (up to 1 MiB), copied at registration."""
    git_commit_details: dict[str, str] | None = None
    source_name: str | None = None
    source_argv: list[str] | None = None
    files: dict[str, str] = field(default_factory=dict)
    """Relative path -> sha256 of every registered file."""
    registered_by: str = ""
    creation_timestamp: int = 0
    other_runs: list[str] = field(default_factory=list)
    """Other runs whose artifacts hold the same content (content lookups only)."""

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict
        return asdict(self)

"""Datasets, as ``mlflow.data``: ``from_pandas`` / ``from_numpy`` describe a dataset (name,
digest, source, schema, profile) and ``log_input`` records it as an input of the active run.

The fields, digests and schema JSON are MLflow's, so a dataset described here and one described
by MLflow from the same data carry the same digest. A run's inputs are kept in its artifact
``tracker/inputs.json`` (a JSON list of ``{"dataset": {...}, "tags": {...}}``), and the run is
tagged ``tracker.inputs`` with that path; run.json's format is unchanged.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import artifacts, store

INPUTS_FILE = "tracker/inputs.json"
INPUTS_TAG = "tracker.inputs"
CONTEXT_TAG = "mlflow.data.context"
_MAX_ROWS = 10000  # the rows (or elements) a digest reads, as MLflow


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset came from: ``source_type`` (``local``, ``http``, ``s3``, ``code``, ...) and
    its JSON description (``{"uri": ...}``, or the script's tags for ``code``)."""
    source_type: str
    config: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(self.config)

    @property
    def uri(self) -> str | None:
        return self.config.get("uri")

    @property
    def url(self) -> str | None:
        """MLflow's ``HTTPDatasetSource.url``: the same string as ``uri``."""
        return self.config.get("uri")


def _resolve_source(source: Any) -> DatasetSource:
    if isinstance(source, DatasetSource):
        return source
    if source is None:  # MLflow's CodeDatasetSource: the script that made the dataset
        return DatasetSource("code", {"tags": {
            "mlflow.user": _user(), "mlflow.source.name": os.path.basename(sys.argv[0]) if sys.argv else "",
            "mlflow.source.type": "LOCAL"}})
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path or URI string, got {type(source).__name__}")
    text = os.fspath(source)
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    kind = {"http": "http", "https": "http", "s3": "s3", "gs": "gcs", "hf": "hugging_face", "file": "local"}
    return DatasetSource(kind.get(scheme, "local" if not scheme else scheme), {"uri": text})


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        return ""


def _digest(elements: list[Any]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for element in elements:
        md5.update(element)
    return md5.hexdigest()[:8]


def _colspec_type(series: Any) -> str:
    """MLflow's DataType name for a pandas column."""
    if series.dtype.kind == "O":
        series = series.infer_objects()
    dtype = series.dtype
    if dtype.kind == "O":
        values = [v for v in series.tolist() if v is not None]
        if values and all(isinstance(v, bytes) for v in values):
            return "binary"
        if all(isinstance(v, str) for v in values):
            return "string"
        raise TypeError(f"cannot describe column {series.name!r}: values of mixed or unsupported types")
    if dtype.kind == "b":
        return "boolean"
    if dtype.kind in "iu":
        return "integer" if dtype.itemsize < 4 or (dtype.kind == "i" and dtype.itemsize == 4) else "long"
    if dtype.kind == "f":
        return "float" if dtype.itemsize <= 4 else "double"
    if dtype.kind == "U":
        return "string"
    if dtype.kind == "S":
        return "binary"
    if dtype.kind == "M":
        return "datetime"
    if str(dtype) in ("string", "str"):
        return "string"
    raise TypeError(f"cannot describe column {series.name!r} of dtype {dtype}")


def _tensor_spec(array: Any) -> str:
    return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]}}])


class Dataset:
    """A described dataset: ``name``, ``digest``, ``source``, ``schema`` and ``profile``."""

    def __init__(self, source: DatasetSource, name: str | None, digest: str | None) -> None:
        self._source = source
        self._name = name
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._name if self._name is not None else "dataset"

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def schema(self) -> dict[str, Any] | None:
        raise NotImplementedError

    @property
    def profile(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, str]:
        """MLflow's string dictionary: name, digest, source, source_type, schema, profile."""
        schema = self.schema
        return {"name": self.name, "digest": self.digest, "source": self.source.to_json(),
                "source_type": self.source.source_type,
                "schema": json.dumps(schema) if schema is not None else None,
                "profile": json.dumps(self.profile)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} digest={self.digest}>"


class PandasDataset(Dataset):
    def __init__(self, df: Any, source: DatasetSource, targets: str | None = None, name: str | None = None,
                 digest: str | None = None, predictions: str | None = None) -> None:
        for column, what in ((targets, "targets"), (predictions, "predictions")):
            if column is not None and column not in df.columns:
                raise ValueError(f"The specified pandas DataFrame does not contain the specified {what} "
                                 f"column '{column}'.")
        self._df, self._targets, self._predictions = df, targets, predictions
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        import numpy as np
        import pandas as pd
        trimmed = self._df.head(_MAX_ROWS)
        strings = trimmed.columns[self._df.map(type).eq(str).all(axis=0)]
        numbers = trimmed.select_dtypes(include=[np.number]).columns
        trimmed = trimmed[strings.union(numbers)]
        return _digest([pd.util.hash_pandas_object(trimmed).values, np.int64(len(self._df))]
                       + [str(c).encode() for c in self._df.columns])

    df = property(lambda self: self._df)
    targets = property(lambda self: self._targets)
    predictions = property(lambda self: self._predictions)

    @property
    def schema(self) -> dict[str, Any] | None:
        try:
            return {"mlflow_colspec": [
                {"type": _colspec_type(self._df[c]), "name": str(c), "required": not bool(self._df[c].isna().any())}
                for c in self._df.columns]}
        except TypeError:
            return None

    @property
    def profile(self) -> dict[str, Any]:
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}


class NumpyDataset(Dataset):
    def __init__(self, features: Any, source: DatasetSource, targets: Any = None, name: str | None = None,
                 digest: str | None = None) -> None:
        import numpy as np
        self._features = np.asarray(features)
        self._targets = None if targets is None else np.asarray(targets)
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        import numpy as np
        import pandas as pd
        elements: list[Any] = []
        for array in (self._features, self._targets):
            if array is None:
                continue
            flat = array.flatten()[:_MAX_ROWS]
            try:
                elements.append(pd.util.hash_array(flat))
            except TypeError:
                elements.append(np.int64(flat.size))
            elements.extend(np.int64(x) for x in array.shape)
        return _digest(elements)

    features = property(lambda self: self._features)
    targets = property(lambda self: self._targets)

    @property
    def schema(self) -> dict[str, Any]:
        spec = {"features": _tensor_spec(self._features)}
        if self._targets is not None:
            spec["targets"] = _tensor_spec(self._targets)
        return {"mlflow_tensorspec": spec}

    @property
    def profile(self) -> dict[str, Any]:
        profile: dict[str, Any] = {}
        for prefix, array in (("features", self._features), ("targets", self._targets)):
            if array is not None:
                profile.update({f"{prefix}_shape": list(array.shape), f"{prefix}_size": int(array.size),
                                f"{prefix}_nbytes": int(array.nbytes)})
        return profile


def from_pandas(df: Any, source: Any = None, targets: str | None = None, name: str | None = None,
                digest: str | None = None, predictions: str | None = None) -> PandasDataset:
    """A dataset of a pandas DataFrame; ``source`` a path or URI (default: this script)."""
    import pandas as pd
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas.DataFrame, got {type(df).__name__}")
    return PandasDataset(df, _resolve_source(source), targets, name, digest, predictions)


def from_numpy(features: Any, source: Any = None, targets: Any = None, name: str | None = None,
               digest: str | None = None) -> NumpyDataset:
    """A dataset of numpy features (and targets); ``source`` a path or URI (default: this script)."""
    return NumpyDataset(features, _resolve_source(source), targets, name, digest)


@dataclass(frozen=True)
class InputTag:
    key: str
    value: str


class DatasetRecord(dict):
    """A logged dataset as MLflow's ``mlflow.entities.Dataset``: ``name``, ``digest``, ``source_type``,
    ``source``, ``schema`` and ``profile`` read as attributes; it stays the stored dict."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


@dataclass(frozen=True)
class DatasetInput:
    """One input of a run, as MLflow's ``run.inputs.dataset_inputs[i]``: the dataset's stored
    fields (a dict, as ``Dataset.to_dict``) and the input's tags (``mlflow.data.context``, ...)."""
    dataset: dict[str, Any]
    tags: list[InputTag] = field(default_factory=list)


def _read_inputs(path: Any) -> list[dict[str, Any]]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def log_input(dataset: Dataset, context: str | None = None, tags: dict[str, str] | None = None) -> None:
    """Record ``dataset`` as an input of the active run (started when none is); ``context``
    (e.g. "training") becomes the input's ``mlflow.data.context`` tag. Logging the same dataset
    with the same tags again adds nothing."""
    if not isinstance(dataset, Dataset):
        raise TypeError("dataset must be a tracker.data Dataset (from_pandas, from_numpy), "
                        f"got {type(dataset).__name__}")
    input_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    if context is not None:
        input_tags[CONTEXT_TAG] = str(context)
    entry = {"dataset": dataset.to_dict(), "tags": input_tags}
    from . import fluent
    writer = fluent._current()
    folder = writer.path / store.ARTIFACTS_DIR
    dest = artifacts.artifact_file(folder, INPUTS_FILE)
    with writer._lock:  # two threads logging inputs of one run must not lose one
        entries = _read_inputs(dest)
        if entry not in entries:
            text = json.dumps([*entries, entry], indent=2, ensure_ascii=False)
            artifacts._write_bytes_atomic(dest, text.encode("utf-8"), folder)
        if writer.document.tags.get(INPUTS_TAG) != INPUTS_FILE:
            writer.set_tags({INPUTS_TAG: INPUTS_FILE})


@dataclass(frozen=True)
class RunInputs:
    """MLflow's ``run.inputs``: the run's ``dataset_inputs``."""
    dataset_inputs: list[DatasetInput]


def get_inputs(run_id: str) -> list[DatasetInput]:
    """The dataset inputs recorded for ``run_id``, in the order they were logged."""
    from .config import get_tracking_dir
    if not isinstance(run_id, str) or not store.is_run_dir_name(run_id):
        raise ValueError(f"no run {run_id!r}")
    return _inputs_in(store.run_dir(get_tracking_dir(), run_id))


def run_inputs(run_path: str | os.PathLike) -> RunInputs:
    """``Run.inputs``: what ``log_input`` recorded in the run folder at ``run_path``."""
    return RunInputs(_inputs_in(run_path) if run_path else [])


def get_source(dataset: Any) -> DatasetSource:
    """MLflow's ``mlflow.data.get_source``: where a dataset, a logged one or a run input, came from."""
    if isinstance(dataset, DatasetInput):
        dataset = dataset.dataset
    if isinstance(dataset, Dataset):
        return dataset.source
    if isinstance(dataset, dict):
        try:
            config = json.loads(dataset.get("source") or "{}")
        except ValueError:
            config = {}
        return DatasetSource(str(dataset.get("source_type", "")), config if isinstance(config, dict) else {})
    raise TypeError(f"get_source takes a dataset or a run's dataset input, got {type(dataset).__name__}")


def _inputs_in(run_path: str | os.PathLike) -> list[DatasetInput]:
    folder = Path(run_path) / store.ARTIFACTS_DIR
    out = []
    for entry in _read_inputs(artifacts.artifact_file(folder, INPUTS_FILE)):
        dataset, tags = entry.get("dataset"), entry.get("tags")
        if isinstance(dataset, dict) and isinstance(tags, dict):
            out.append(DatasetInput(DatasetRecord(dataset), [InputTag(str(k), str(v)) for k, v in tags.items()]))
    return out

"""The one module that owns the on-disk format. Everything else gets plain objects from here."""
from .atomic import read_json, write_json_atomic
from .layout import (
    ARTIFACTS_DIR, FORMAT_VERSION, MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH,
    is_run_dir_name, list_run_dirs, metric_path, resolve_inside, run_dir, validate_key,
)
from .metricfile import MetricSeries, encode_records, open_for_append, read_series
from .reader import (
    DEFAULT_EXPERIMENT, ensure_experiment, read_all_runs, read_experiments,
    read_metric, read_run,
)
from .rundoc import (
    HEARTBEAT_SECONDS, STALE_SECONDS, RunDocument, new_document, process_start_ticks, read_document,
    this_host, write_document,
)

__all__ = [name for name in dir() if not name.startswith("_")]

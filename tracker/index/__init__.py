"""The disposable cache over a runs directory: every run as columns (``RunTable``), kept in one
file (``RunIndex``), so listing, filtering and sorting 100,000 runs never reads their folders."""
from .run_index import INDEX_NAME, SCHEMA_VERSION, IndexResult, IndexUnavailable, RunIndex, user_cache_path
from .table import RunTable, TableBuilder

__all__ = ["INDEX_NAME", "SCHEMA_VERSION", "IndexResult", "IndexUnavailable", "RunIndex", "RunTable",
           "TableBuilder", "user_cache_path"]

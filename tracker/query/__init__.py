"""The filter grammar and MLflow's ``order_by`` evaluated over a runs table's columns with numpy:
what the app's runs table and ``search_runs`` use to filter and sort without making runs."""
from .evaluate import mask, select, text_column
from .order import order, order_fields, sort_key

__all__ = ["mask", "order", "order_fields", "select", "sort_key", "text_column"]

"""``tracker.tracking``: where MLflow scripts import the client from (``from mlflow.tracking import MlflowClient``)."""
from ..client import Client, MlflowClient
from ..config import get_tracking_uri, is_tracking_uri_set, set_tracking_uri

__all__ = ["Client", "MlflowClient", "get_tracking_uri", "is_tracking_uri_set", "set_tracking_uri"]

"""MLflow's ``mlflow.types`` names: the pieces of a model signature (see ``tracker.models.signature``)."""
from .models.signature import Array, ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec

__all__ = ["Array", "ColSpec", "DataType", "ParamSchema", "ParamSpec", "Schema", "TensorSpec"]

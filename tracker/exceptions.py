"""``MlflowException`` and its kinds, with MLflow's error-code names and HTTP statuses.

Scripts written for MLflow catch ``MlflowException`` and read ``.error_code``; code written
for this library catches ValueError, LookupError or TypeError. Each kind below is both, so
either ``except`` works.
"""
from __future__ import annotations

from typing import Any

INTERNAL_ERROR = "INTERNAL_ERROR"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INVALID_STATE = "INVALID_STATE"
BAD_REQUEST = "BAD_REQUEST"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"

# MLflow's ERROR_CODE_TO_HTTP_STATUS
_HTTP_STATUS = {
    INTERNAL_ERROR: 500, INVALID_STATE: 500, "DATA_LOSS": 500, NOT_IMPLEMENTED: 501,
    "TEMPORARILY_UNAVAILABLE": 503, "REQUEST_LIMIT_EXCEEDED": 429, "RESOURCE_EXHAUSTED": 429,
    "ABORTED": 409, "RESOURCE_CONFLICT": 409, "ALREADY_EXISTS": 409, "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404, RESOURCE_DOES_NOT_EXIST: 404, "PERMISSION_DENIED": 403,
    "CUSTOMER_UNAUTHORIZED": 401, "UNAUTHENTICATED": 401, BAD_REQUEST: 400,
    RESOURCE_ALREADY_EXISTS: 400, INVALID_PARAMETER_VALUE: 400,
}


class MlflowException(Exception):
    """An error of a tracking or registry call; ``error_code`` is MLflow's name for its kind."""

    def __init__(self, message: Any, error_code: str = INTERNAL_ERROR, **kwargs: Any) -> None:
        self.error_code = error_code if error_code in _HTTP_STATUS else INTERNAL_ERROR
        self.message = str(message)
        self.json_kwargs = kwargs
        super().__init__(self.message)

    def get_http_status_code(self) -> int:
        return _HTTP_STATUS.get(self.error_code, 500)

    def serialize_as_json(self) -> str:
        import json
        return json.dumps({"error_code": self.error_code, "message": self.message, **self.json_kwargs})

    @classmethod
    def invalid_parameter_value(cls, message: Any, **kwargs: Any) -> "MlflowException":
        return InvalidParameterValue(message, **kwargs)


TrackerError = MlflowException  # this library's own name for the base


class InvalidParameterValue(MlflowException, ValueError):
    """A bad argument: a key name, a changed param, a value of the wrong kind."""

    def __init__(self, message: Any, error_code: str = INVALID_PARAMETER_VALUE, **kwargs: Any) -> None:
        super().__init__(message, error_code, **kwargs)


class ResourceDoesNotExist(MlflowException, LookupError):
    """A run, experiment or artifact that is not there."""

    def __init__(self, message: Any, error_code: str = RESOURCE_DOES_NOT_EXIST, **kwargs: Any) -> None:
        super().__init__(message, error_code, **kwargs)

    def __str__(self) -> str:  # LookupError (KeyError's base) would not quote, but be explicit
        return self.message


class ResourceAlreadyExists(MlflowException, ValueError):
    def __init__(self, message: Any, error_code: str = RESOURCE_ALREADY_EXISTS, **kwargs: Any) -> None:
        super().__init__(message, error_code, **kwargs)


class InvalidState(MlflowException, RuntimeError):
    """A call that the run's or experiment's state forbids (e.g. logging to a deleted experiment)."""

    def __init__(self, message: Any, error_code: str = INVALID_STATE, **kwargs: Any) -> None:
        super().__init__(message, error_code, **kwargs)


class UnsupportedTrackingUri(MlflowException, ValueError):
    """A tracking URI this library cannot serve: it writes a local directory, never a server."""

    def __init__(self, message: Any, error_code: str = INVALID_PARAMETER_VALUE, **kwargs: Any) -> None:
        super().__init__(message, error_code, **kwargs)


class InvalidParameterType(MlflowException, TypeError):
    """An argument of the wrong type (MLflow reports these as INVALID_PARAMETER_VALUE too)."""

    def __init__(self, message: Any, error_code: str = INVALID_PARAMETER_VALUE, **kwargs: Any) -> None:
        super().__init__(message, error_code, **kwargs)


class RunNotFoundError(ResourceDoesNotExist, ValueError):
    """No run with this id in the tracking directory (MLflow's "Run '<id>' not found")."""

    def __init__(self, run_id: str, error_code: str = RESOURCE_DOES_NOT_EXIST, **kwargs: Any) -> None:
        super().__init__(f"Run '{run_id}' not found", error_code, **kwargs)
        self.run_id = run_id

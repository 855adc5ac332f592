"""Autologging: ``tracker.autolog()`` turns on every integration this library has (scikit-learn).

(The package is not named ``autolog``: importing it would set ``tracker.autolog`` to the package,
hiding the function.)

Autologging patches the ``fit`` methods of library classes, so it happens only when the user
calls ``autolog()``; ``autolog(disable=True)`` restores every patched method.
"""
from __future__ import annotations

from typing import Any


def autolog(log_input_examples: bool = False, log_model_signatures: bool = True, log_models: bool = True,
            log_datasets: bool = True, log_traces: bool = True, disable: bool = False, exclusive: bool = False,
            disable_for_unsupported_versions: bool = False, silent: bool = False,
            extra_tags: dict[str, Any] | None = None, exclude_flavors: list[str] | None = None) -> None:
    """Enable (or, with ``disable=True``, disable) autologging for the supported libraries, as
    ``mlflow.autolog``. Only scikit-learn is supported; ``log_traces`` (for GenAI libraries) has
    nothing to trace here. ``exclude_flavors=["sklearn"]`` leaves scikit-learn alone."""
    if exclude_flavors and "sklearn" in exclude_flavors:
        return
    from .sklearn import autolog as sklearn_autolog
    sklearn_autolog(log_input_examples=log_input_examples, log_model_signatures=log_model_signatures,
                    log_models=log_models, log_datasets=log_datasets, disable=disable, exclusive=exclusive,
                    disable_for_unsupported_versions=disable_for_unsupported_versions, silent=silent,
                    extra_tags=extra_tags)

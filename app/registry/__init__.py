"""The model registry panel: ``RegistryPanel(tracking_dir)`` (objectName ``registryPanel``), with its
Qt models, delegates, drops, dialogs, lineage view, and the jobs its worker runs over ``tracker``."""
from __future__ import annotations

__all__ = ["RegistryPanel"]


def __getattr__(name: str):
    if name == "RegistryPanel":
        from app.registry.panel import RegistryPanel
        return RegistryPanel
    raise AttributeError(f"module 'app.registry' has no attribute {name!r}")

"""The model registry panel (issue 6): ``RegistryPanel(tracking_dir)``, objectName ``registryPanel``.

Modules: ``panel`` (behaviour), ``panel_ui`` (widgets), ``item_models`` (Qt models), ``delegates``,
``dnd`` (drops), ``dialogs``, ``lineage_view``, ``worker`` (the worker threads) and ``jobs`` (what
the workers run: plain functions over ``tracker``, no Qt).
"""
from __future__ import annotations

__all__ = ["RegistryPanel"]


def __getattr__(name: str):
    if name == "RegistryPanel":
        from app.registry.panel import RegistryPanel
        return RegistryPanel
    raise AttributeError(f"module 'app.registry' has no attribute {name!r}")

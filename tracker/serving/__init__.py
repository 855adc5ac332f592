"""Serve a model over HTTP with MLflow's scoring protocol: ``tracker models serve MODEL_URI``.

    from tracker.serving import start_server
    with start_server("models:/fraud/Production") as server:     # its own process, a free port
        reply = server.invoke({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]}})
        reply.json()["predictions"], reply.headers["x-model-version"], server.metadata(), server.stats()

A server started on a stage, an alias or ``latest`` follows it: when the registry changes it loads
the version now named beside the one serving, checks its files' sha256, and swaps (``swap.py``).
uvicorn and Starlette are the ``serve`` extra (``pip install 'tracker[serve]'``); this package
imports without them, and starting a server then says which extra to install.
"""
from __future__ import annotations

from .process import Reply, ServerProcess, ServerStartError, start_server
from .runner import EXTRA_HINT, ServeExtraMissing, ServeOptions, require_extra, serve

__all__ = ["EXTRA_HINT", "Reply", "ServeExtraMissing", "ServeOptions", "ServerProcess", "ServerStartError",
           "require_extra", "serve", "start_server"]

"""The deleted runs (``store.trash``) as a ``RunTable`` beside the active runs' one.

The trash is a runs directory of its own, so it gets its own index (``.trash/.tracker-index.npz``)
and a refresh reads only the deleted runs that changed. The table it returns is rooted at the
runs directory, its folders named ``.trash/<run_id>``: it concatenates with the active runs'
table (for ``ViewType.ALL``), paths and artifact URIs point into the trash, and each ``Run``
made from it says ``lifecycle_stage == "deleted"``.
"""
from __future__ import annotations

import os

from ..store import layout
from .columns import TextColumn
from .run_index import IndexUnavailable, RunIndex, read_into
from .table import RunTable, TableBuilder

_indexes: dict[str, RunIndex] = {}  # one per trash folder, so its table stays loaded between calls


def trash_table(root: str | os.PathLike) -> RunTable:
    """Every deleted run of the runs directory ``root`` (an empty table when there is no trash)."""
    root = os.fspath(root)
    trash = os.path.join(root, layout.TRASH_DIR)
    if not layout.is_plain_dir(trash):
        return RunTable.empty(root)
    table = None
    if not os.environ.get("TRACKER_NO_INDEX"):
        index = _indexes.get(trash)
        if index is None:
            index = _indexes.setdefault(trash, RunIndex(trash))
        try:
            table = index.refresh().table
        except (IndexUnavailable, OSError):
            table = None
    if table is None:
        builder = TableBuilder(trash)
        for name in layout.run_dir_candidates(trash):
            path = os.path.join(trash, name)
            if layout.is_plain_dir(path):
                read_into(builder, name, path, layout.run_doc_key(path))
        table = builder.build()
    return rerooted(table, root)


def rerooted(table: RunTable, root: str) -> RunTable:
    """``table`` (rooted at the trash) rooted at the runs directory: folders become ``.trash/<name>``."""
    folders = table.text["dir"]
    prefix = layout.TRASH_DIR + "/"
    text = {**table.text, "dir": TextColumn(folders.codes, [prefix + name for name in folders.uniques])}
    return RunTable(root, table.n, text, table.ints, table.params, table.tags, table.metrics)

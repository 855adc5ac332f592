"""What the index counts as a run folder: a real folder named by a run id; files and links
named like one are not runs (a link could point anywhere), on the first read and after."""
from __future__ import annotations

import os
import shutil

from tracker.client import Client
from tracker.index import RunIndex

from index_fixtures import make_run, root  # noqa: F401


def _ids(table) -> set[str]:
    return {table.text["run_id"].get(i) for i in table.readable_rows().tolist()}


def test_links_and_files_named_like_runs_are_not_runs(root, tmp_path):  # noqa: F811
    kept = make_run(root, "kept").run_id
    elsewhere = make_run(tmp_path / "elsewhere", "elsewhere").run_id
    os.symlink(tmp_path / "elsewhere" / elsewhere, root / elsewhere)
    (root / ("e" * 32)).write_text("not a folder")
    index = RunIndex(root)
    assert _ids(index.refresh().table) == {kept}
    assert _ids(index.refresh().table) == {kept}  # and again, from the stored table
    assert [r.info.run_id for r in Client(root).search_runs()] == [kept]


def test_a_run_folder_replaced_by_a_link_after_indexing_is_checked_again(root, tmp_path):  # noqa: F811
    first = make_run(root, "first").run_id
    second = make_run(root, "second").run_id
    index = RunIndex(root)
    assert _ids(index.refresh().table) == {first, second}
    moved = tmp_path / "moved"
    shutil.move(root / second, moved)
    other = make_run(tmp_path / "other", "other").run_id  # a different run.json behind the link
    os.symlink(tmp_path / "other" / other, root / second)
    assert _ids(index.refresh().table) == {first}

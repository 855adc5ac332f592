"""A damaged row in the run index is never served: the run is read from run.json again and the row rewritten."""
import sqlite3
import struct

import pytest

from tracker import store
from tracker.entities import RunStatus
from tracker.index import INDEX_NAME, RunIndex
from tracker.index_prefetch import IndexPrefetch, discard_unclaimed

from index_fixtures import by_id, cache_home, make_run, root  # noqa: F401  (cache_home, root: fixtures)


@pytest.fixture(autouse=True)
def no_leftover_prefetches():
    yield
    discard_unclaimed()


def indexed_runs(root):
    a = make_run(root, "a", params={"lr": 0.1}, metrics={"acc": [0.5, 0.75]})
    b = make_run(root, "b", metrics={"acc": [0.25]}, status=RunStatus.FAILED)
    first = RunIndex(root).refresh()
    assert first.reread == 2
    return a.run_id, b.run_id


def row(root, run_id):
    with sqlite3.connect(root / INDEX_NAME) as db:
        return db.execute("SELECT status, keys, data FROM runs WHERE run_id = ?", (run_id,)).fetchone()


def change_row(root, run_id, column, value):
    with sqlite3.connect(root / INDEX_NAME) as db:
        db.execute(f"UPDATE runs SET {column} = ? WHERE run_id = ?", (value, run_id))


def change_one_byte(blob: bytes, old: bytes, xor: int = 1) -> bytes:
    at = blob.index(old)
    return blob[:at] + bytes([blob[at] ^ xor]) + blob[at + 1:]


def test_a_changed_byte_in_a_metric_value_is_not_served(root):
    run_id, other = indexed_runs(root)
    good = row(root, run_id)
    # the latest acc, 0.75, as marshal stores it: one byte of the float changed in the file
    change_row(root, run_id, "data", change_one_byte(good[2], struct.pack("<d", 0.75)))

    result = RunIndex(root).refresh()
    runs = by_id(result.runs)
    assert runs[run_id].data.metrics["acc"] == store.read_run(runs[run_id].path).data.metrics["acc"] == 0.75
    assert runs[run_id].data.summaries["acc"].max == 0.75
    assert (result.cached, result.reread) == (1, 1)  # only the damaged row was read again
    assert row(root, run_id) == good  # and rewritten


def test_a_changed_status_or_key_name_is_not_served(root):
    run_id, other = indexed_runs(root)
    change_row(root, other, "status", RunStatus.FINISHED)  # it FAILED
    change_row(root, run_id, "keys", change_one_byte(row(root, run_id)[1], b"acc"))  # 'acc' -> 'bcc'

    runs = by_id(RunIndex(root).refresh().runs)
    assert runs[other].info.status == RunStatus.FAILED
    assert set(runs[run_id].data.metrics) == {"acc"}
    assert runs[run_id].data.params == {"lr": "0.1"}


def test_update_rereads_a_damaged_row_too(root):
    run_id, _ = indexed_runs(root)
    change_row(root, run_id, "data", change_one_byte(row(root, run_id)[2], struct.pack("<d", 0.75), 0x80))
    (run,) = RunIndex(root).update([run_id])
    assert run.data.metrics["acc"] == 0.75


def test_the_startup_helper_rereads_a_damaged_row(root):
    run_id, _ = indexed_runs(root)
    good = row(root, run_id)
    change_row(root, run_id, "data", change_one_byte(good[2], struct.pack("<d", 0.75)))
    prefetch = IndexPrefetch.start(root)
    assert IndexPrefetch.take(root) is prefetch
    result = prefetch.result()
    prefetch.close()
    assert by_id(result.runs)[run_id].data.metrics["acc"] == 0.75
    assert (result.cached, result.reread) == (1, 1)
    again = RunIndex(root).refresh()  # the helper rewrote the row: served from the index now
    assert (again.cached, again.reread) == (2, 0)
    assert by_id(again.runs)[run_id].data.metrics["acc"] == 0.75

"""A damaged or crafted index file is never served: the runs are read from run.json again and the file replaced."""
import zipfile

import numpy as np
import pytest

from tracker import store
from tracker.entities import RunStatus
from tracker.index import INDEX_NAME, RunIndex

from index_fixtures import by_id, make_run
from index_fixtures import cache_home as cache_home, root as root  # fixtures: pytest finds them here


def indexed_runs(root):
    a = make_run(root, "a", params={"lr": 0.1}, metrics={"acc": [0.5, 0.75]})
    b = make_run(root, "b", metrics={"acc": [0.25]}, status=RunStatus.FAILED)
    first = RunIndex(root).refresh()
    assert first.reread == 2
    return a.run_id, b.run_id


def change_one_byte(blob: bytes, old: bytes, xor: int = 1) -> bytes:
    at = blob.index(old)
    return blob[:at] + bytes([blob[at] ^ xor]) + blob[at + 1:]


def rewrite(path, change):
    """Store the file's arrays again after ``change(arrays)``, with valid CRCs: a crafted file."""
    with np.load(path, allow_pickle=False) as files:
        arrays = {name: files[name] for name in files.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_a_changed_byte_in_a_metric_value_is_not_served(root):
    run_id, other = indexed_runs(root)
    path = root / INDEX_NAME
    path.write_bytes(change_one_byte(path.read_bytes(), np.float64(0.75).tobytes()))

    result = RunIndex(root).refresh()
    runs = by_id(result.runs)
    assert runs[run_id].data.metrics["acc"] == store.read_run(runs[run_id].path).data.metrics["acc"] == 0.75
    assert runs[run_id].data.summaries["acc"].max == 0.75
    assert result.reread == 2  # the damaged file was not used...
    assert RunIndex(root).refresh().cached == 2  # ...and was replaced


def test_crafted_codes_out_of_range_are_refused(root):
    run_id, other = indexed_runs(root)

    def point_past_the_values(arrays):
        arrays["codes"] = np.full_like(arrays["codes"], 7)

    rewrite(root / INDEX_NAME, point_past_the_values)
    result = RunIndex(root).refresh()
    assert result.reread == 2
    assert by_id(result.runs)[other].info.status == RunStatus.FAILED


def _with(name, value):
    return lambda a: a.update({name: value(a[name])})


@pytest.mark.parametrize("change", [
    _with("ints", lambda v: v[:, :1]),  # columns shorter than the table
    _with("ints", lambda v: v.astype(np.float64)),  # the wrong dtype
    _with("strings.ends", lambda v: v + 99),  # offsets past the text
    _with("strings.groups", lambda v: v[:-1]),  # a group of strings missing
    _with("codes", lambda v: np.where(np.arange(len(v))[:, None] == 1, 0, v)),  # one folder listed twice
    lambda a: a.pop("metrics.floats"),  # a member missing
    _with("format", lambda v: np.array([2, 10**12, 0, 0, 0], dtype=np.int64)),  # a run count that does not fit
    _with("format", lambda v: np.array([2, v[1], v[2] + 1, v[3], v[4]], dtype=np.int64)),  # a key too many
])
def test_crafted_shapes_and_offsets_are_refused(root, change):
    run_id, other = indexed_runs(root)
    rewrite(root / INDEX_NAME, change)
    result = RunIndex(root).refresh()
    assert result.reread == 2
    assert by_id(result.runs)[run_id].data.params == {"lr": "0.1"}


def test_compressed_members_are_refused(root):
    run_id, _ = indexed_runs(root)
    path = root / INDEX_NAME
    with np.load(path, allow_pickle=False) as files:
        arrays = {name: files[name] for name in files.files}
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    with zipfile.ZipFile(path) as z:
        assert z.infolist()[0].compress_type == zipfile.ZIP_DEFLATED
    assert RunIndex(root).refresh().reread == 2


def test_update_serves_the_run_from_disk_when_the_file_is_damaged(root):
    run_id, _ = indexed_runs(root)
    path = root / INDEX_NAME
    path.write_bytes(change_one_byte(path.read_bytes(), np.float64(0.75).tobytes(), 0x80))
    (run,) = RunIndex(root).update([run_id])
    assert run.data.metrics["acc"] == 0.75

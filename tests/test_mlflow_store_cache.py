"""Listing an MLflow file store again, in a new reader (as a new app process does): only the runs
whose files changed are read, the others come from the cache file in the user's cache directory;
every change MLflow (or a person) can make is seen, and a cache file that cannot be trusted is
read past and replaced, never believed."""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from test_mlflow_store_maker import session_store
from tracker.index import table_file
from tracker.index.columns import TextColumn
from tracker.mlflow_store import file_cache, files, open_store
from tracker.mlflow_store.file_store import FileStoreReader


@pytest.fixture
def store(tmp_path, tmp_path_factory, monkeypatch):
    """A copy of the session's MLflow file store, with its own cache directory. The copy's files
    were all written just now: too recently for their stat to be trusted (``RACY_NS``), so the
    tests that count reads take the copy's stat as settled."""
    path, expected = session_store("file", tmp_path_factory)
    copy = tmp_path / "mlruns"
    shutil.copytree(path, copy, symlinks=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return copy, expected


@pytest.fixture
def settled(monkeypatch):
    monkeypatch.setattr(file_cache, "RACY_NS", 0)


@pytest.fixture
def opened(monkeypatch):
    """The run folders whose files the readers open (meta.yaml, params, tags, metrics), by run id."""
    seen: dict[str, set[str]] = {}
    read_small, read_identified = files.read_small, files.read_identified

    def note(path: str) -> None:
        parts = Path(path).parts
        for i, part in enumerate(parts):
            if len(part) == 32 and all(c in "0123456789abcdef" for c in part) and i + 1 < len(parts):
                seen.setdefault(part, set()).add("/".join(parts[i + 1:]))
                return

    def counting_small(path, *args, **kwargs):
        note(path)
        return read_small(path, *args, **kwargs)

    def counting_identified(path, *args, **kwargs):
        note(path)
        return read_identified(path, *args, **kwargs)

    monkeypatch.setattr(files, "read_small", counting_small)
    monkeypatch.setattr(files, "read_identified", counting_identified)
    return seen


def _ids(expected: dict) -> dict[str, str]:
    return {r["run_name"]: r["run_id"] for r in expected["runs"]}


def _run_dir(root: Path, run_id: str) -> Path:
    return next(p for p in root.glob(f"*/{run_id}") if p.is_dir())


def _content(table) -> dict:
    """Every run of a table as comparable plain values (NaN as None), by run id."""
    out = {}
    for run in table.runs():
        if not hasattr(run, "info"):
            out[run.run_id] = ("unreadable", run.reason)
            continue
        summaries = {k: tuple(None if isinstance(v, float) and math.isnan(v) else v
                              for v in (s.last, s.min, s.max, s.count, s.last_step, s.last_timestamp, s.max_step))
                     for k, s in run.data.summaries.items()}
        info = run.info
        out[info.run_id] = (info.run_name, info.experiment, info.experiment_id, info.status, info.start_time,
                            info.end_time, info.user, info.parent_run_id, info.description,
                            run.data.params, run.data.tags, summaries)
    return out


def _fresh(root: Path, include_deleted: bool = False) -> dict:
    """What a reader without any cache lists."""
    return _content(FileStoreReader(root, cache=False).list_runs(include_deleted).table)


def test_the_listed_table_is_the_one_the_app_made_from_the_runs(store):
    from app.runs.rows import table_of_runs
    root, _ = store
    reader = open_store(root)
    runs, unreadable = reader.scan()
    listed = reader.list_runs().table
    made = table_of_runs(root, [*runs, *unreadable])
    assert sorted(listed.run_ids()) == sorted(made.run_ids())
    order = [made.position(d) for d in listed.dirs()]
    made = made.take(order)
    for field in made.text:
        assert made.text[field].values().tolist() == listed.text[field].values().tolist(), field
    for field in ("start_time", "end_time", "pid", "pid_start"):
        assert made.ints[field].tolist() == listed.ints[field].tolist(), field
    for family in ("params", "tags"):
        a, b = getattr(made, family), getattr(listed, family)
        assert a.keys() == b.keys()
        assert all(a[k].values().tolist() == b[k].values().tolist() for k in a), family
    assert made.metrics.keys() == listed.metrics.keys()
    for key, column in made.metrics.items():
        assert column.present.tolist() == listed.metrics[key].present.tolist()
        for name, array in column.arrays.items():
            np.testing.assert_array_equal(array, listed.metrics[key].arrays[name])


def test_a_new_reader_reads_only_the_runs_whose_files_changed(store, settled, opened):
    root, expected = store
    ids = _ids(expected)
    first = open_store(root).list_runs()
    assert len(first.read) == len(expected["runs"])  # every run, deleted ones too, read once
    assert Path(os.environ["XDG_CACHE_HOME"], "tracker", "mlflow").is_dir()
    assert not any(p.name.endswith(".npz") for p in root.rglob("*"))  # nothing written into the store

    with open(_run_dir(root, ids["parent"]) / "metrics" / "loss", "ab") as f:
        f.write(b"1796000000000 -3.0 99\n")  # MLflow appends a point
    (_run_dir(root, ids["child-0"]) / "params" / "fold").write_text("changed by hand")
    new_id = "f" * 32
    new_run = _run_dir(root, ids["child-1"]).parent / new_id
    shutil.copytree(_run_dir(root, ids["child-1"]), new_run)
    meta = new_run / "meta.yaml"
    meta.write_text(meta.read_text().replace(ids["child-1"], new_id))
    shutil.rmtree(_run_dir(root, ids["crashed"]))

    opened.clear()
    again = open_store(root).list_runs()
    assert set(opened) == {ids["parent"], ids["child-0"], new_id}
    assert sorted(again.read) == sorted({ids["parent"], ids["child-0"], new_id})
    assert again.removed == [ids["crashed"]]
    table = again.table
    loss = table.metrics["loss"]
    i = table.position(ids["parent"])
    assert (loss["count"][i], loss["min"][i], loss["last_step"][i]) == (8, -3.0, 99)
    assert table.params["fold"].get(table.position(ids["child-0"])) == "changed by hand"
    assert table.position(new_id) is not None and table.position(ids["crashed"]) is None
    assert _content(table) == _fresh(root)

    opened.clear()
    third = open_store(root).list_runs()
    assert not opened and not third.read and _content(third.table) == _fresh(root)


def test_a_new_process_reads_nothing_when_nothing_changed(store, settled):
    root, _ = store
    open_store(root).list_runs()
    script = textwrap.dedent(f"""
        import re
        from tracker.mlflow_store import file_cache, files, open_store
        file_cache.RACY_NS = 0
        count = [0]
        small, identified = files.read_small, files.read_identified
        def counting(read):
            def counted(path, *a, **k):
                count[0] += bool(re.search("/[0-9a-f]{{32}}/", path))  # a run's file
                return read(path, *a, **k)
            return counted
        files.read_small, files.read_identified = counting(small), counting(identified)
        listing = open_store({str(root)!r}).list_runs()
        print(listing.table.n, len(listing.read), count[0])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr[-2000:]
    n, read, files_read = map(int, done.stdout.split())
    assert n == len(_fresh(root)) and read == 0 and files_read == 0


def test_deleted_runs_and_experiments_are_hidden_unless_asked_for(store, settled, opened):
    root, expected = store
    ids = _ids(expected)
    open_store(root).list_runs()
    opened.clear()
    reader = open_store(root)
    shown = set(reader.list_runs().table.run_ids())
    everything = set(reader.list_runs(include_deleted=True).table.run_ids())
    assert not opened  # both from the cache
    assert everything - shown == {ids["deleted-run"], ids["in-deleted-experiment"]}
    assert shown == set(_fresh(root)) and everything == set(_fresh(root, include_deleted=True))
    assert reader.is_deleted(ids["deleted-run"]) and not reader.is_deleted(ids["parent"])

    meta = _run_dir(root, ids["child-0"]) / "meta.yaml"
    meta.write_text(meta.read_text().replace("lifecycle_stage: active", "lifecycle_stage: deleted"))
    restored = _run_dir(root, ids["deleted-run"]) / "meta.yaml"
    restored.write_text(restored.read_text().replace("lifecycle_stage: deleted", "lifecycle_stage: active"))
    now = set(open_store(root).list_runs().table.run_ids())
    assert now == (shown - {ids["child-0"]}) | {ids["deleted-run"]} == set(_fresh(root))


def test_an_experiment_renamed_or_deleted_reads_its_runs_again(store, settled):
    root, expected = store
    ids = _ids(expected)
    open_store(root).list_runs()
    exp_dir = _run_dir(root, ids["parent"]).parent
    meta = exp_dir / "meta.yaml"
    meta.write_text(meta.read_text().replace("name: vision", "name: vision-2"))
    table = open_store(root).list_runs().table
    assert table.text["experiment"].get(table.position(ids["parent"])) == "vision-2"
    shutil.move(exp_dir, root / ".trash" / exp_dir.name)  # what MLflow's delete_experiment does
    listing = open_store(root).list_runs()
    assert listing.table.position(ids["parent"]) is None
    assert _content(listing.table) == _fresh(root)
    assert set(open_store(root).list_runs(include_deleted=True).table.run_ids()) == set(_fresh(root, True))


def test_a_run_written_just_now_is_read_again_next_time(store):
    root, expected = store
    open_store(root).list_runs()  # the copy's files are seconds old: not settled yet
    assert len(open_store(root).list_runs(include_deleted=True).read) == len(expected["runs"])


def _cache_file(root: Path) -> Path:
    return file_cache.cache_path(root)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _pickled(path: Path) -> None:
    np.savez(path, format=np.array([1, 1], dtype=np.int64), **{"t.run_id.chars": np.array([object()], dtype=object)})


def _lying_names(path: Path) -> None:
    """A well-formed table whose file names reach outside the run folders."""
    table = table_file.load(path, "/")
    names = table.tags[file_cache.FILES]
    table.tags[file_cache.FILES] = TextColumn(names.codes, [f"meta.yaml{file_cache.SEP}params/../../../etc/passwd"
                                                            for _ in names.uniques])
    table_file.save(table, path)


def _other_run_ids(path: Path) -> None:
    """A well-formed table whose rows name runs other than their folders."""
    table = table_file.load(path, "/")
    column = table.text["run_id"]
    table.text["run_id"] = TextColumn(column.codes, [u[::-1] for u in column.uniques])
    table_file.save(table, path)


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(b"not a zip file at all"),
    lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    lambda p: p.write_bytes(p.read_bytes().replace(b"meta.yaml", b"meta.yamm")),
    _fifo, _pickled, _lying_names, _other_run_ids,
], ids=["garbage", "truncated", "edited", "fifo", "pickle", "names-outside", "other-run-ids"])
def test_a_damaged_or_crafted_cache_file_is_ignored_and_replaced(store, settled, opened, damage):
    root, expected = store
    open_store(root).list_runs()
    path = _cache_file(root)
    damage(path)
    opened.clear()
    listing = open_store(root).list_runs()
    assert len(listing.read) == len(expected["runs"])  # everything read from the store
    assert _content(listing.table) == _fresh(root)
    assert path.is_file() and table_file.load(path, str(root)).n == len(expected["runs"])  # rewritten
    opened.clear()
    assert not open_store(root).list_runs().read and not opened


def test_a_cache_directory_that_cannot_be_written_is_no_error(store, settled, tmp_path, monkeypatch):
    root, _ = store
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    listing = open_store(root).list_runs()
    assert _content(listing.table) == _fresh(root)


def test_runs_are_made_from_the_store_only_when_asked_for(store, settled, opened):
    root, expected = store
    ids = _ids(expected)
    open_store(root).list_runs()
    opened.clear()
    listing = open_store(root).list_runs()
    assert not opened and len(listing.runs) == listing.table.n and ids["parent"] in listing.runs
    made = []
    listing.runs.on_made = made.append
    run = listing.runs[ids["parent"]]
    assert set(opened) == {ids["parent"]} and made == [run]
    assert run.data.params["lr"] == "0.01" and run.path == str(_run_dir(root, ids["parent"]))
    assert listing.runs[ids["parent"]] is run and made == [run]  # kept
    assert ids["deleted-run"] not in listing.runs


def _next_tick(folder: Path) -> int:
    """A ctime later than that of every file written so far (the file system's clock ticks
    coarsely): a probe file is written until its ctime moves."""
    probe = folder / "probe"
    probe.write_bytes(b"0")
    first = probe.stat().st_ctime_ns
    while (now := probe.stat().st_ctime_ns) <= first:
        probe.write_bytes(b"1" if probe.read_bytes() == b"0" else b"0")
    return now


def test_a_run_changed_while_it_was_being_listed_is_read_again(store, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from tracker.mlflow_store import file_store
    root, expected = store
    ids = _ids(expected)
    tick = _next_tick(tmp_path)
    monkeypatch.setattr(file_cache, "RACY_NS", 0)
    monkeypatch.setattr(file_store, "time", SimpleNamespace(time_ns=lambda: tick))  # the listing begins now
    reader = open_store(root)
    reader.list_runs(keys_later=True)
    param = _run_dir(root, ids["child-0"]) / "params" / "fold"
    param.write_text("9")  # after the run was read, before its files are stat'd; the same size
    reader.settle()
    again = open_store(root).list_runs()
    assert again.read == [ids["child-0"]]
    assert again.table.params["fold"].get(again.table.position(ids["child-0"])) == "9"

"""The on-disk format: framed metric records, tail reads, damaged files and run directories."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import tracker
from tracker import Client, store
from tracker.store import metricfile


def write_points(path, n, start=0):
    with store.open_for_append(path) as f:
        steps = np.arange(start, start + n)
        f.write(store.encode_records(steps, steps * 10, steps * 0.5))


def test_records_round_trip_and_tail_reads(tmp_path):
    path = tmp_path / "m.metric"
    write_points(path, 100)
    first = store.read_series(path)
    assert first.steps.tolist() == list(range(100))
    assert first.values.tolist() == [i * 0.5 for i in range(100)]
    write_points(path, 5, start=100)
    tail = store.read_series(path, first.position)
    assert tail.steps.tolist() == [100, 101, 102, 103, 104]
    assert store.read_series(path, tail.position).steps.tolist() == []


def test_torn_tail_is_skipped_then_resumed(tmp_path):
    path = tmp_path / "m.metric"
    write_points(path, 10)
    complete = path.read_bytes()
    with open(path, "ab") as f:  # a writer died mid-record
        f.write(store.encode_records([10], [0], [1.0])[:13])
    series = store.read_series(path)
    assert len(series) == 10 and series.position == len(complete)
    write_points(path, 3, start=10)  # reopening cuts the torn bytes, then appends
    assert store.read_series(path).steps.tolist() == list(range(13))
    assert store.read_series(path, series.position).steps.tolist() == [10, 11, 12]


def test_a_reader_never_sees_a_half_written_record(tmp_path):
    path = tmp_path / "m.metric"
    write_points(path, 2)
    record = store.encode_records([2], [0], [7.0])
    with open(path, "ab") as f:
        f.write(record[:20])
        f.flush()
        partial = store.read_series(path)
        f.write(record[20:])
    assert len(partial) == 2
    assert store.read_series(path, partial.position).values.tolist() == [7.0]


def test_missing_and_garbage_files_read_as_empty(tmp_path):
    assert len(store.read_series(tmp_path / "none.metric")) == 0
    (tmp_path / "garbage.metric").write_bytes(os.urandom(1000))
    assert len(store.read_series(tmp_path / "garbage.metric")) == 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(0, 60),
    cut=st.integers(0, 2000),
    flips=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 255)), max_size=4),
)
def test_damaged_files_lose_only_damaged_records_and_never_raise(tmp_path, n, cut, flips):
    path = tmp_path / "h.metric"
    path.unlink(missing_ok=True)
    steps = np.arange(n)
    values = np.sin(steps.astype(float))
    with store.open_for_append(path) as f:
        f.write(store.encode_records(steps, steps + 1000, values))
    data = bytearray(path.read_bytes())
    for offset, xor in flips:
        if offset < len(data):
            data[offset] ^= xor
    data = data[: min(cut, len(data))]
    path.write_bytes(bytes(data))
    series = store.read_series(path)
    # every record left whole and untouched is read, in order; damaged and cut ones are not
    # (a header naming another format version reads as empty)
    original = store.encode_records(steps, steps + 1000, values)
    kept = [i for i in range(n)
            if 64 + 32 * i <= len(data) and data[32 + 32 * i:64 + 32 * i] == original[32 * i:32 * i + 32]]
    other_version = data[:8] == metricfile.MAGIC and data[8:12] != (1).to_bytes(4, "little")
    if len(data) < 32 or other_version:
        kept = []
    assert series.steps.tolist() == steps[kept].tolist()
    assert series.values.tolist() == values[kept].tolist()
    assert series.timestamps.tolist() == (steps[kept] + 1000).tolist()


def test_run_json_is_replaced_atomically(tmp_path):
    with tracker.start_run() as run:
        tracker.log_param("a", 1)
    run_dir = Path(Client().get_run(run.info.run_id).path)
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    doc = json.loads((run_dir / "run.json").read_text())
    assert doc["format_version"] == store.FORMAT_VERSION


@pytest.mark.parametrize("damage", ["truncated", "garbage", "missing", "not-an-object", "future-version"])
def test_a_corrupt_run_is_reported_and_hides_no_other_run(damage):
    for name in ("good-1", "bad", "good-2"):
        with tracker.start_run(run_name=name):
            tracker.log_metric("loss", 1.0)
    client = Client()
    bad = next(r for r in client.search_runs() if r.info.run_name == "bad")
    doc = Path(bad.path) / "run.json"
    text = doc.read_text()
    if damage == "truncated":
        doc.write_text(text[: len(text) // 2])
    elif damage == "garbage":
        doc.write_bytes(os.urandom(300))
    elif damage == "missing":
        doc.unlink()
    elif damage == "not-an-object":
        doc.write_text("[1, 2]")
    else:
        doc.write_text(text.replace('"format_version": 1', '"format_version": 99'))
    (Path(bad.path) / "metrics" / os.listdir(Path(bad.path) / "metrics")[0]).write_bytes(b"junk")
    runs, unreadable = client.scan()
    assert sorted(r.info.run_name for r in runs) == ["good-1", "good-2"]
    assert [u.run_id for u in unreadable] == [bad.info.run_id]
    assert unreadable[0].reason
    with pytest.raises(ValueError, match="unreadable"):
        client.get_run(bad.info.run_id)


def test_stray_entries_in_the_root_are_not_runs(tracking_dir):
    with tracker.start_run():
        pass
    (tracking_dir / "notes.txt").write_text("hi")
    (tracking_dir / "not-a-run").mkdir()
    (tracking_dir / ".tmp-0123").mkdir()
    runs, unreadable = Client().scan()
    assert len(runs) == 1 and unreadable == []


def test_key_file_names_stay_inside_and_are_distinct():
    names = {store.layout.key_file_name(k) for k in ["a/b", "a%2Fb", "A", "a", "..", "ü" * 250]}
    assert len(names) == 6
    assert all("/" not in n and n not in (".", "..") and len(n.encode()) < 255 for n in names)


def test_a_running_run_from_another_host_reads_killed_once_its_heartbeat_is_stale():
    run = tracker.start_run()
    tracker.end_run()
    run_dir = Path(Client().get_run(run.info.run_id).path)
    doc = json.loads((run_dir / "run.json").read_text())
    doc["info"].update(status="RUNNING", end_time=None, host="some-other-host", pid=1)
    (run_dir / "run.json").write_text(json.dumps(doc))
    (run_dir / "heartbeat").touch()
    assert Client().get_run(run.info.run_id).info.status == "RUNNING"
    old = (run_dir / "heartbeat").stat().st_mtime - store.STALE_SECONDS - 5
    os.utime(run_dir / "heartbeat", (old, old))
    assert Client().get_run(run.info.run_id).info.status == "KILLED"

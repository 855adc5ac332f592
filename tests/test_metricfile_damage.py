"""A damaged metric record costs one point: readers skip it, tail reads stay exact, resuming keeps the rest."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tracker
from tracker import Client, store
from tracker.store import metricfile

HEADER, RECORD = metricfile.HEADER_SIZE, metricfile.RECORD_SIZE


def write_file(path, n, start=0):
    steps = np.arange(start, start + n)
    with store.open_for_append(path) as f:
        f.write(store.encode_records(steps, steps * 10, steps * 0.25))
    return steps


def flip_bit(path, record, bit=3):
    with open(path, "r+b") as f:
        f.seek(HEADER + record * RECORD + 2)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ (1 << bit)]))


def test_a_flipped_bit_in_record_10_of_100000_costs_one_point(tmp_path):
    path = tmp_path / "m.metric"
    steps = write_file(path, 100_000)
    flip_bit(path, 10)
    series = store.read_series(path)
    expected = np.delete(steps, 10)
    assert len(series) == 99_999
    assert np.array_equal(series.steps, expected)
    assert np.array_equal(series.values, expected * 0.25)
    assert series.position == os.path.getsize(path)


def test_resuming_a_run_keeps_every_valid_point_after_a_damaged_one(tmp_path):
    with tracker.start_run() as run:
        for i in range(100_000):
            tracker.log_metric("loss", float(i), step=i)
    run_id = run.info.run_id
    path = store.metric_path(Client().get_run(run_id).path, "loss")
    flip_bit(path, 10)
    size = os.path.getsize(path)
    with tracker.start_run(run_id=run_id):
        for i in range(100_000, 100_005):
            tracker.log_metric("loss", float(i), step=i)
    assert os.path.getsize(path) == size + 5 * RECORD  # nothing cut, five records appended
    history = Client().metric_series(run_id, "loss")
    expected = np.delete(np.arange(100_005), 10)
    assert len(history) == 100_004
    assert np.array_equal(history.steps, expected)
    assert np.array_equal(history.values, expected.astype(float))


def test_resuming_through_the_writer_cuts_only_a_torn_tail(tmp_path):
    path = tmp_path / "m.metric"
    write_file(path, 20)
    flip_bit(path, 5)
    flip_bit(path, 19)  # the last record fails too, and nothing valid follows it: a torn tail
    with open(path, "ab") as f:
        f.write(store.encode_records([99], [0], [1.0])[:13])  # and half a record after it
    write_file(path, 3, start=20)
    steps = store.read_series(path).steps.tolist()
    assert steps == [s for s in range(23) if s not in (5, 19)]
    assert os.path.getsize(path) == HEADER + 22 * RECORD  # record 5 kept in place, the tail cut


def test_a_damaged_record_at_the_end_is_read_again_then_skipped_once_records_follow(tmp_path):
    path = tmp_path / "m.metric"
    write_file(path, 4)
    flip_bit(path, 3)
    first = store.read_series(path)
    assert first.steps.tolist() == [0, 1, 2]
    assert first.position == HEADER + 3 * RECORD  # the failing last record may still be being written
    with open(path, "ab") as f:  # the writer (which never rewrites a record) carries on
        f.write(store.encode_records([4, 5], [0, 0], [1.0, 2.0]))
    tail = store.read_series(path, first.position)
    assert tail.steps.tolist() == [4, 5]
    assert tail.position == os.path.getsize(path)


def test_damage_between_two_tail_reads_is_skipped_by_the_next_one(tmp_path):
    path = tmp_path / "m.metric"
    write_file(path, 3)
    first = store.read_series(path)
    with open(path, "ab") as f:
        f.write(store.encode_records([3, 4, 5], [0, 0, 0], [3.0, 4.0, 5.0]))
    flip_bit(path, 4)
    tail = store.read_series(path, first.position)
    assert tail.steps.tolist() == [3, 5]


@pytest.mark.parametrize("inserted", [1, 5, 31, 33])
def test_records_moved_off_the_grid_are_found_again(tmp_path, inserted):
    path = tmp_path / "m.metric"
    write_file(path, 10)
    data = path.read_bytes()
    at = HEADER + 4 * RECORD
    path.write_bytes(data[:at] + b"\x5a" * inserted + data[at:])  # stray bytes after record 3
    series = store.read_series(path)
    assert series.steps.tolist() == list(range(10))
    assert series.position == len(data) + inserted
    write_file(path, 2, start=10)  # resuming keeps the moved records and appends after them
    assert store.read_series(path).steps.tolist() == list(range(12))


def test_a_torn_record_that_a_writer_appended_after_costs_only_itself(tmp_path):
    path = tmp_path / "m.metric"
    write_file(path, 3)
    with open(path, "ab") as f:  # a write cut short (disk full), then later appends go on after it
        f.write(store.encode_records([3], [0], [3.0])[:20])
        f.write(store.encode_records([4, 5], [0, 0], [4.0, 5.0]))
    assert store.read_series(path).steps.tolist() == [0, 1, 2, 4, 5]


def test_a_damaged_header_loses_no_records_and_another_version_is_left_alone(tmp_path):
    path = tmp_path / "m.metric"
    write_file(path, 5)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF  # the magic: the records still vouch for themselves
    path.write_bytes(bytes(data))
    assert store.read_series(path).steps.tolist() == list(range(5))
    write_file(path, 1, start=5)
    assert store.read_series(path).steps.tolist() == list(range(6))

    newer = tmp_path / "newer.metric"
    newer.write_bytes(metricfile.MAGIC + (2).to_bytes(4, "little") + bytes(20) + bytes(data[32:]))
    assert len(store.read_series(newer)) == 0
    before = newer.read_bytes()
    with pytest.raises(ValueError, match="format version 2"):
        store.open_for_append(newer)
    assert newer.read_bytes() == before


@st.composite
def damaged_files(draw):
    """(file bytes, the points a full read must return): records with flipped bits, stray
    bytes and half-written records scattered through them."""
    n = draw(st.integers(0, 40))
    steps = np.arange(n)
    records = store.encode_records(steps, steps + 7, np.cos(steps.astype(float)))
    out, kept = bytearray(metricfile._HEADER), []
    for i in range(n):
        record = bytearray(records[i * RECORD:(i + 1) * RECORD])
        damage = draw(st.sampled_from(["none"] * 6 + ["flip", "stray", "torn"]))
        if damage == "flip":
            record[draw(st.integers(0, RECORD - 1))] ^= 1 << draw(st.integers(0, 7))
        elif damage == "stray":
            out += bytes(draw(st.binary(min_size=1, max_size=40)))
            kept.append(i)
        elif damage == "torn":
            record = record[:draw(st.integers(1, RECORD - 1))]
        else:
            kept.append(i)
        out += record
    return bytes(out), steps[kept]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=damaged_files(), cuts=st.lists(st.integers(0, 3000), max_size=8))
def test_tail_reads_while_the_file_grows_return_exactly_what_one_full_read_does(tmp_path, case, cuts):
    data, expected = case
    path = tmp_path / "grow.metric"
    full = tmp_path / "full.metric"
    full.write_bytes(data)
    whole = store.read_series(full)
    assert whole.steps.tolist() == expected.tolist()
    # the same bytes arriving in pieces, read by a live tail reader after each piece
    got, position = [], 0
    for cut in sorted({min(c, len(data)) for c in cuts} | {len(data)}):
        path.write_bytes(data[:cut])
        tail = store.read_series(path, position)
        got += tail.steps.tolist()
        position = tail.position
    assert got == expected.tolist()
    assert position == whole.position

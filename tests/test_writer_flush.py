"""The flush path: loggers never wait for the flusher, and every point reaches its file once, in order."""
import math
import threading

from hypothesis import given, settings, strategies as st

import tracker
from tracker import Client, fluent
from tracker.store import pending
from tracker.store.pending import CHUNK_POINTS, pack_point, seal_points
from tracker.writer import FLUSHER

points = st.tuples(st.integers(-3, 3), st.integers(0, 3),
                   st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.0])))


def expected(pts):
    """count, min, max (NaN ignored), last, and the point at the highest step (latest time, then last logged)."""
    values = [v for _, _, v in pts if not math.isnan(v)]
    highest = max(enumerate(pts), key=lambda ip: (ip[1][0], ip[1][1], ip[0]))[1]
    return (len(pts), min(values) if values else math.nan, max(values) if values else math.nan, pts[-1], highest)


def same(a, b):
    """Equal, with NaN equal to NaN (and 0.0 to -0.0: which of two equal values min returns is not kept)."""
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


@settings(max_examples=150, deadline=None)
@given(keys=st.lists(st.lists(points, min_size=1, max_size=30), min_size=1, max_size=8),
       big=st.integers(0, 2))
def test_sealed_chunks_summarise_each_key_alone_however_keys_are_grouped(keys, big):
    keys = [pts * (CHUNK_POINTS // len(pts) + 1) if i < big else pts for i, pts in enumerate(keys)]
    raws = [b"".join(pack_point(*p) for p in pts) for pts in keys]
    chunks = seal_points(raws)
    assert len(chunks) == len(keys)
    for pts, raw, chunk in zip(keys, raws, chunks):
        count, low, high, last, highest = expected(pts)
        assert chunk.count == count
        assert same((chunk.low, chunk.high), (low, high))
        assert same(chunk.last, last) and same(chunk.highest, highest)
        assert bytes(chunk.data) == bytes(seal_points([raw])[0].data)


def test_combining_chunks_equals_summarising_them_at_once():
    pts = [(i % 7, i % 3, float(i % 5) if i % 11 else math.nan) for i in range(1000)]
    parts = [pts[:1], pts[1:400], pts[400:401], pts[401:]]
    chunks = seal_points([b"".join(pack_point(*p) for p in part) for part in parts])
    count, low, high, last, highest = pending.combine(chunks)
    assert same((count, low, high, last, highest), expected(pts))


def test_points_sealed_while_flushes_run_reach_the_file_in_logging_order(tracking_dir):
    n = 3 * CHUNK_POINTS + 17
    with tracker.start_run() as run:
        for i in range(n):
            tracker.log_metric("loss", i * 0.5)
            if i % 1000 == 0:
                FLUSHER.flush_all(summaries=i % 3000 == 0)
    series = Client().metric_series(run.info.run_id, "loss")
    assert series.steps.tolist() == list(range(n))
    assert series.values.tolist() == [i * 0.5 for i in range(n)]
    summary = tracker.get_run(run.info.run_id).data.summaries["loss"]
    assert (summary.count, summary.last, summary.min, summary.max) == (n, (n - 1) * 0.5, 0.0, (n - 1) * 0.5)


def test_threads_logging_one_key_while_the_flusher_flushes_save_every_point_once(tracking_dir):
    per_thread, threads = 2 * CHUNK_POINTS + 5, 4
    with tracker.start_run() as run:
        writer = fluent._stack[-1]
        done = threading.Event()

        def log(t):
            for i in range(per_thread):
                writer.log_metric("shared", float(t * per_thread + i), step=i)

        workers = [threading.Thread(target=log, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        flushing = threading.Thread(target=lambda: [writer.flush() for _ in iter(lambda: done.is_set(), True)])
        flushing.start()
        for w in workers:
            w.join()
        done.set()
        flushing.join()
    values = Client().metric_series(run.info.run_id, "shared").values.tolist()
    assert sorted(values) == [float(v) for v in range(threads * per_thread)]


def test_the_flusher_never_holds_the_writer_lock_while_sealing_or_appending_points(tracking_dir, monkeypatch):
    """A param logged during a flush must not wait for points being converted or written."""
    from tracker import writer as writer_module
    free = []

    def lock_is_free(writer):
        def probe():
            if writer._lock.acquire(blocking=False):
                writer._lock.release()
                free.append(True)
            else:
                free.append(False)
        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()

    with tracker.start_run():
        writer = fluent._stack[-1]
        real_seal, real_append = writer_module.seal_points, writer._files.append_parts

        def seal(raws):
            lock_is_free(writer)
            return real_seal(raws)

        def append(key, parts):
            lock_is_free(writer)
            return real_append(key, parts)

        monkeypatch.setattr(writer_module, "seal_points", seal)
        monkeypatch.setattr(writer._files, "append_parts", append)
        for i in range(10):
            tracker.log_metrics({"a": i, "b": i})
        writer.flush(summaries=False)  # what the flusher thread calls
        monkeypatch.undo()  # (end_run flushes holding the lock: nothing can be logged then anyway)
    assert free and all(free)


def test_logging_goes_on_while_a_flush_is_stuck_writing(tracking_dir, monkeypatch):
    with tracker.start_run() as run:
        writer = fluent._stack[-1]
        tracker.log_metric("loss", 0.0)
        entered, release = threading.Event(), threading.Event()
        real_append = writer._files.append_parts
        order = []

        def stuck(key, parts):
            entered.set()
            release.wait(60)  # far longer than the logging below takes: if it had to wait, the order shows it
            return real_append(key, parts)

        monkeypatch.setattr(writer._files, "append_parts", stuck)
        flushing = threading.Thread(target=lambda: (writer.flush(summaries=False), order.append("flush")))
        flushing.start()
        entered.wait()
        for i in range(1, 2 * CHUNK_POINTS):
            tracker.log_metric("loss", float(i))
        tracker.log_param("lr", 0.1)
        tracker.set_tag("phase", "stuck flush")
        order.append("logging")
        release.set()
        flushing.join()
        monkeypatch.undo()
    assert order == ["logging", "flush"]
    values = Client().metric_series(run.info.run_id, "loss").values
    assert values.tolist() == [float(i) for i in range(2 * CHUNK_POINTS)]
    assert tracker.get_run(run.info.run_id).data.params == {"lr": "0.1"}

"""Per-call latency of log_metric while the background flusher runs. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_log_latency.py [points] [keys]

Logs ``points`` points (default 2,000,000) in a tight loop, round-robin over ``keys`` metric
keys (default 1), timing every call with ``time.perf_counter_ns``. Each call over 1 ms is
put down to what overlapped it, so the flusher's share can be told from the rest:

- ``gc``: a garbage collection ran during the call (the benchmark's own ``gc.callbacks``);
- ``flush``: a flush of the run was in progress (its start and end are recorded by wrapping
  ``RunWriter.flush`` in this process only);
- ``other``: neither: the OS ran something else (two cores shared with other work).

A flush lasts longer than the CPU work it does (each system call it makes lets the logging
thread take the GIL back), so "during a flush" overstates the flusher's share. A second pass
reads the flusher thread's CPU clock before every call (a system call each, so that loop runs
slower) and splits the slow calls during flushes by how much the flusher ran meanwhile: at least
half of the wait (``flusher ran``) or less (``flusher idle``: the process or the flusher was off
the CPU, i.e. the machine).

The same loop is then timed with the flusher held off (points buffered, flushed at the end), so
the figures without any flush give the machine's own noise on the same loop.
"""
from __future__ import annotations

import array
import gc
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine

import tracker
from tracker import writer as writer_module

SLOW_NS = 1_000_000  # calls slower than this are attributed


class Recorder:
    """Intervals (start_ns, end_ns) of flushes and of garbage collections, in perf_counter_ns time."""

    def __init__(self) -> None:
        self.flushes: list[tuple[int, int]] = []
        self.gcs: list[tuple[int, int]] = []
        self._gc_start = 0

    def on_gc(self, phase: str, info: dict) -> None:
        now = time.perf_counter_ns()
        if phase == "start":
            self._gc_start = now
        else:
            self.gcs.append((self._gc_start, now))


def _overlaps(intervals: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a < end and b > start for a, b in intervals)


def _percentile(sorted_ns: array.array, q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * q))] / 1000.0


def _flusher_cpu_clock() -> int | None:
    thread = writer_module.FLUSHER._thread
    if thread is None or not hasattr(time, "pthread_getcpuclockid"):
        return None
    return time.pthread_getcpuclockid(thread.ident)


def run_loop(n: int, keys: list[str], recorder: Recorder, hold_flusher: bool, cpu: bool = False) -> dict:
    started = array.array("q", bytes(8 * n))
    took = array.array("q", bytes(8 * n))
    flusher_cpu = array.array("q", bytes(8 * (n + 1))) if cpu else None
    with tracker.start_run(run_name="bench-log-latency") as run:
        writer = tracker.fluent._stack[-1]
        log_metric = tracker.log_metric
        for i in range(2000):  # warm up: key creation, the flusher thread
            log_metric(keys[i % len(keys)], 0.5)
        writer.flush()
        original = writer.flush
        held = threading.Event()

        def timed_flush(summaries: bool = True) -> None:
            if hold_flusher and not held.is_set():
                return
            t0 = time.perf_counter_ns()
            try:
                original(summaries)
            finally:
                recorder.flushes.append((t0, time.perf_counter_ns()))

        writer.flush = timed_flush  # this run's writer only
        clock = time.perf_counter_ns
        nkeys = len(keys)
        t_start = clock()
        if flusher_cpu is None:
            for i in range(n):
                key = keys[i % nkeys] if nkeys > 1 else keys[0]
                t0 = clock()
                log_metric(key, 0.5)
                t1 = clock()
                started[i] = t0
                took[i] = t1 - t0
        else:
            cpu_clock, read = _flusher_cpu_clock(), time.clock_gettime_ns
            for i in range(n):
                key = keys[i % nkeys] if nkeys > 1 else keys[0]
                flusher_cpu[i] = read(cpu_clock)
                t0 = clock()
                log_metric(key, 0.5)
                t1 = clock()
                started[i] = t0
                took[i] = t1 - t0
            flusher_cpu[n] = read(cpu_clock)
        wall = (clock() - t_start) / 1e9
        held.set()
        writer.flush = original
        run_id = run.info.run_id
    counts = {k: s.count for k, s in tracker.get_run(run_id).data.summaries.items()}
    slow: dict[str, list[int]] = {"flush": [], "gc": [], "other": []}
    if flusher_cpu is not None:
        slow = {"flush, flusher ran": [], "flush, flusher idle": [], "gc": [], "other": []}
    for i in range(n):
        if took[i] > SLOW_NS:
            start, end = started[i], started[i] + took[i]
            cause = ("gc" if _overlaps(recorder.gcs, start, end)
                     else "flush" if _overlaps(recorder.flushes, start, end) else "other")
            if cause == "flush" and flusher_cpu is not None:
                ran = flusher_cpu[i + 1] - flusher_cpu[i]
                cause = "flush, flusher ran" if ran * 2 >= took[i] else "flush, flusher idle"
            slow[cause].append(took[i])
    ordered = array.array("q", sorted(took))
    return {"n": n, "wall": wall, "ordered": ordered, "slow": slow, "counts": counts,
            "flushes": list(recorder.flushes)}


def report(title: str, result: dict, keys: int) -> None:
    ordered = result["ordered"]
    n = result["n"]
    print(f"{title}: {n:,} calls over {keys} key(s) in {result['wall']:.2f} s ({n / result['wall']:,.0f} calls/s)")
    print(f"  per call: p50 {_percentile(ordered, 0.5):.2f} us, p99 {_percentile(ordered, 0.99):.2f} us, "
          f"p99.9 {_percentile(ordered, 0.999):.2f} us, p99.99 {_percentile(ordered, 0.9999):.1f} us, "
          f"max {ordered[-1] / 1000:.0f} us")
    for cause, times in result["slow"].items():
        if times:
            print(f"  calls over 1 ms during {cause}: {len(times)}, longest {max(times) / 1e6:.2f} ms")
        else:
            print(f"  calls over 1 ms during {cause}: 0")
    flushes = result["flushes"]
    if flushes:
        spans = sorted(b - a for a, b in flushes)
        print(f"  flushes: {len(flushes)}, median {spans[len(spans) // 2] / 1e6:.1f} ms, "
              f"longest {spans[-1] / 1e6:.1f} ms")
    total = sum(result["counts"].values())
    print(f"  points saved: {total:,} (expected {n + 2000:,})")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    nkeys = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    keys = [f"loss_{k}" for k in range(nkeys)] if nkeys > 1 else ["loss"]
    print(f"machine: {describe_machine()}")
    print(f"sys.getswitchinterval() = {sys.getswitchinterval() * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        tracker.set_tracking_dir(Path(tmp) / "runs")
        passes = ((False, False, "with the flusher running"),
                  (False, True, "with the flusher running, its CPU clock read before each call"),
                  (True, False, "with the flusher held off (machine noise)"))
        for hold, cpu, title in passes:
            if cpu and not hasattr(time, "pthread_getcpuclockid"):
                continue
            recorder = Recorder()
            gc.callbacks.append(recorder.on_gc)  # the benchmark's own hook, removed below
            try:
                result = run_loop(n, keys, recorder, hold, cpu)
            finally:
                gc.callbacks.remove(recorder.on_gc)
            report(title, result, nkeys)
    writer_module.FLUSHER.flush_all()


if __name__ == "__main__":
    main()

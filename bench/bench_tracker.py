"""Benchmarks of the tracker library. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_tracker.py
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine

import tracker
from tracker import store
from tracker.writer import FLUSHER


def bench_log_metric(root: Path, n: int = 2_000_000) -> None:
    tracker.set_tracking_dir(root)
    with tracker.start_run(run_name="bench-log-metric"):
        log_metric = tracker.log_metric
        for i in range(1000):  # warm up: key creation, the flusher thread
            log_metric("loss", 0.5)
        t0 = time.perf_counter()
        for i in range(n):
            log_metric("loss", 0.5)
        elapsed = time.perf_counter() - t0
        t1 = time.perf_counter()
    end = time.perf_counter() - t1
    print(f"log_metric, one thread, one key, auto step: {n / elapsed:,.0f} calls/s "
          f"({n:,} calls in {elapsed:.2f} s; end_run then flushed the rest in {end * 1000:.0f} ms)")
    with tracker.start_run(run_name="bench-log-metric-steps"):
        t0 = time.perf_counter()
        for i in range(n // 2):
            log_metric("acc", i * 1e-6, step=i)
        elapsed = time.perf_counter() - t0
    print(f"log_metric, explicit step:                  {n // 2 / elapsed:,.0f} calls/s")


def bench_start_end(root: Path, n: int = 200) -> None:
    outside_git = root / "no-git"
    outside_git.mkdir()
    os.chdir(outside_git)  # the script's own directory is inside this repo; measure from a plain dir
    sys.argv = [str(outside_git / "train.py")]
    tracker.set_tracking_dir(outside_git / "runs")
    tracker.start_run().__exit__(None, None, None)  # first run pays one-off imports
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        with tracker.start_run():
            pass
        times.append(time.perf_counter() - t0)
    print(f"run start + end, outside git: median {statistics.median(times) * 1000:.2f} ms, "
          f"p95 {sorted(times)[int(n * 0.95)] * 1000:.2f} ms (n={n})")


def bench_history(root: Path, n: int = 1_000_000) -> None:
    run = root / "history" / ("0" * 32)
    path = store.metric_path(run, "loss")
    with store.open_for_append(path) as f:
        steps = np.arange(n)
        f.write(store.encode_records(steps, steps + 1_700_000_000_000, np.random.default_rng(0).random(n)))
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        series = store.read_series(path)
        times.append(time.perf_counter() - t0)
    assert len(series) == n
    print(f"1,000,000-point history into numpy: median {statistics.median(times) * 1000:.1f} ms")
    position = series.position
    tails = []
    for k in range(20):
        with open(path, "ab") as f:
            steps = np.arange(n + k * 1000, n + (k + 1) * 1000)
            f.write(store.encode_records(steps, steps, steps * 0.5))
        t0 = time.perf_counter()
        tail = store.read_series(path, position)
        tails.append(time.perf_counter() - t0)
        assert len(tail) == 1000
        position = tail.position
    print(f"tail read of 1,000 new points: median {statistics.median(tails) * 1000:.3f} ms")


def main() -> None:
    print(f"machine: {describe_machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_log_metric(root / "runs")
        bench_history(root)
        bench_start_end(root)
    FLUSHER.flush_all()


if __name__ == "__main__":
    main()

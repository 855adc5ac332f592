"""Benchmarks of the run writer's limits. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_writer_hardening.py [--kills N]

- end_run with 15,000 metric keys, and end_run straight after logging 15,000 and 100,000
  new keys: time, and the most file descriptors the process had open.
- What a SIGKILL loses: a child logs one key as fast as it can; it is killed at a random
  moment, and the loss is the kill time minus the timestamp of the last point on disk.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine

import tracker
from tracker import Client
from tracker.writer import FLUSH_SECONDS, FLUSHER


def open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def bench_many_keys(root: Path, n_keys: int, repeats: int) -> None:
    """Keys logged for a few steps while the flusher runs, then end_run: what a training script does."""
    tracker.set_tracking_dir(root)
    ends, creates, most_fds = [], [], 0
    for _ in range(repeats):
        with tracker.start_run():
            for step in range(3):
                for k in range(n_keys):
                    tracker.log_metric(f"layer{k}/grad_norm", k * 0.5)
                    if k % 1000 == 0:
                        most_fds = max(most_fds, open_fds())
                t0 = time.perf_counter()
                FLUSHER.flush_all()  # what the background thread does every interval
                if step == 0:
                    creates.append(time.perf_counter() - t0)
            for k in range(n_keys):  # the last step's points are still buffered at end_run
                tracker.log_metric(f"layer{k}/grad_norm", k * 0.5)
            t1 = time.perf_counter()
        ends.append(time.perf_counter() - t1)
    print(f"{n_keys:,} keys: end_run median {statistics.median(ends):.2f} s (max {max(ends):.2f} s, n={repeats}; "
          f"it appends one point to each key, then syncs every file); the first flush, which creates the "
          f"{n_keys:,} files, took {statistics.median(creates):.2f} s in the background; "
          f"at most {most_fds} descriptors open")


def bench_end_right_after_new_keys(root: Path, n_keys: int) -> None:
    """end_run straight after logging new keys (the flusher creates their files meanwhile)."""
    tracker.set_tracking_dir(root)
    with tracker.start_run():
        t0 = time.perf_counter()
        for k in range(n_keys):
            tracker.log_metric(f"k{k}", 1.0)
        logged = time.perf_counter() - t0
        most_fds = open_fds()
        t1 = time.perf_counter()
    print(f"{n_keys:,} new keys logged in {logged:.2f} s, then end_run at once: {time.perf_counter() - t1:.2f} s, "
          f"{most_fds} descriptors open")


LOGGER = textwrap.dedent("""
    import sys, tracker
    with tracker.start_run() as run:
        keys = [f"m{k}" for k in range(int(sys.argv[1]))]
        for i in range(20_000):  # warm up: every key created, the flusher started
            tracker.log_metric(keys[i % len(keys)], i)
        print(run.info.run_id, flush=True)
        i = 0
        log_metric = tracker.log_metric
        while True:
            log_metric(keys[i % len(keys)], i)
            i += 1
""")


def bench_kill_loss(root: Path, kills: int, n_keys: int) -> None:
    losses = []
    rate = []
    for _ in range(kills):
        env = {**os.environ, "TRACKER_DIR": str(root)}
        proc = subprocess.Popen([sys.executable, "-c", LOGGER, str(n_keys)], env=env,
                                stdout=subprocess.PIPE, text=True)
        run_id = proc.stdout.readline().strip()
        time.sleep(random.uniform(0.5, 1.5))
        killed_at = time.time() * 1000
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        client = Client(root)
        last = max(int(client.metric_series(run_id, f"m{k}").timestamps.max()) for k in range(n_keys))
        total = sum(len(client.metric_series(run_id, f"m{k}")) for k in range(n_keys))
        losses.append(killed_at - last)
        rate.append(total)
    print(f"SIGKILL at full speed, {n_keys} key(s), flush every {FLUSH_SECONDS * 1000:.0f} ms: points lost span "
          f"median {statistics.median(losses):.0f} ms, max {max(losses):.0f} ms (n={kills}; "
          f"a run kept {statistics.median(rate):,.0f} points)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {describe_machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # The kills first: writing back 100,000 new files keeps the disk busy for a while after.
        bench_kill_loss(root / "kill1", args.kills, 1)
        bench_kill_loss(root / "kill10", args.kills, 10)
        bench_many_keys(root / "k15", 15_000, repeats=3)
        bench_end_right_after_new_keys(root / "new15", 15_000)
        bench_end_right_after_new_keys(root / "new100", 100_000)


if __name__ == "__main__":
    main()

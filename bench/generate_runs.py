"""Write a synthetic runs directory quickly: N runs x 20 params x 10 metrics x 100 steps.

    .venv/bin/python bench/generate_runs.py /tmp/runs-10k -n 10000

Runs are written straight through ``tracker.store`` (run.json, framed metric files),
without the fluent API's per-run context capture (git, argv, environment) or fsyncs,
so 10,000 runs take seconds. The result reads exactly like runs a script logged.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker import store
from tracker.entities import RunStatus

EXPERIMENTS = ["Default", "baseline", "resnet-sweep", "lr-search", "ablation", "tabular", "nlp", "vision"]
PARAM_CHOICES = {
    "lr": ["0.1", "0.03", "0.01", "0.003", "0.001", "0.0003"],
    "batch_size": ["16", "32", "64", "128", "256"],
    "max_depth": ["3", "5", "8", "10", "None"],
    "optimizer": ["sgd", "adam", "adamw", "rmsprop"],
    "dropout": ["0.0", "0.1", "0.2", "0.3", "0.5"],
}
METRIC_NAMES = ["loss", "val_loss", "accuracy", "val_accuracy", "f1", "precision", "recall", "auc", "lr", "grad_norm"]
STATUSES = [RunStatus.FINISHED] * 17 + [RunStatus.FAILED] * 2 + [RunStatus.KILLED]


def _param_names(n: int) -> list[str]:
    names = list(PARAM_CHOICES)
    return (names + [f"param_{i:02d}" for i in range(len(names), n)])[:n]


def _metric_names(n: int) -> list[str]:
    return (METRIC_NAMES + [f"metric_{i:02d}" for i in range(len(METRIC_NAMES), n)])[:n]


def write_run(root: Path, index: int, n_params: int = 20, n_metrics: int = 10, steps: int = 100,
              seed: int = 0) -> str:
    """Write one finished (or failed, or killed) run; returns its run id."""
    rng = random.Random(seed * 1_000_003 + index)
    run_id = f"{rng.getrandbits(128):032x}"
    start = 1_700_000_000_000 + index * 60_000
    duration = rng.randint(5_000, 3_600_000)
    status = rng.choice(STATUSES)
    doc = store.new_document(
        run_id, f"run-{index:05d}", EXPERIMENTS[index % len(EXPERIMENTS)], start,
        user="bench", host="bench-host", description="" if index % 3 else f"synthetic run {index}",
    )
    info = doc["info"]
    info.update(status=status, end_time=start + duration)
    if status == RunStatus.FAILED:
        info["error"] = "RuntimeError: synthetic failure"
    if index % 50 and index % 10 == 0:  # a few nested runs under the previous parent
        parent_rng = random.Random(seed * 1_000_003 + index - 10 * (index % 50 // 10))
        info["parent_run_id"] = f"{parent_rng.getrandbits(128):032x}"
    for name in _param_names(n_params):
        choices = PARAM_CHOICES.get(name)
        doc["params"][name] = rng.choice(choices) if choices else str(rng.randint(0, 1000))
    doc["tags"] = {"bench": "true", "tracker.user": "bench", "seed": str(index % 7)}

    path = root / run_id
    (path / store.ARTIFACTS_DIR).mkdir(parents=True)
    step_array = np.arange(steps, dtype=np.int64)
    times = start + step_array * (duration // max(steps, 1))
    gen = np.random.default_rng(seed * 1_000_003 + index)
    noise = gen.normal(0.0, 0.01, (n_metrics, steps))
    quality = gen.uniform(0.6, 1.0)  # how good this run is: final accuracies spread over 0.6..1.0
    decay = np.exp(-step_array / (steps / 3 + 1))
    for k, key in enumerate(_metric_names(n_metrics)):
        if "loss" in key or key in ("lr", "grad_norm") or key.startswith("metric_"):
            values = decay * (1.0 + 0.1 * k) + (1.0 - quality) * 0.5 + noise[k]  # falls
        else:
            values = quality * (1.0 - 0.8 * decay) + noise[k]  # rises towards quality
        with store.open_for_append(store.metric_path(path, key)) as f:
            f.write(store.encode_records(step_array, times, values))
        if steps:
            doc["metrics"][key] = {
                "last": float(values[-1]), "min": float(values.min()), "max": float(values.max()),
                "count": steps, "last_step": steps - 1, "last_timestamp": int(times[-1]),
            }
    store.write_json_atomic(path / "run.json", doc, fsync=False)
    return run_id


def _write_range(args: tuple[str, int, int, int, int, int, int]) -> list[str]:
    root, lo, hi, n_params, n_metrics, steps, seed = args
    return [write_run(Path(root), i, n_params, n_metrics, steps, seed) for i in range(lo, hi)]


def generate(root: str | os.PathLike, n: int, n_params: int = 20, n_metrics: int = 10, steps: int = 100,
             jobs: int | None = None, seed: int = 0) -> list[str]:
    """Write ``n`` runs into ``root`` (created if needed); returns their run ids."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name in EXPERIMENTS:
        store.ensure_experiment(root, name)
    jobs = jobs or min(os.cpu_count() or 1, 8)
    if jobs <= 1 or n < 200:
        return _write_range((str(root), 0, n, n_params, n_metrics, steps, seed))
    chunk = math.ceil(n / jobs)
    ranges = [(str(root), lo, min(n, lo + chunk), n_params, n_metrics, steps, seed) for lo in range(0, n, chunk)]
    with ProcessPoolExecutor(jobs) as pool:
        return [run_id for ids in pool.map(_write_range, ranges) for run_id in ids]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="runs directory to write into (created if missing)")
    parser.add_argument("-n", "--runs", type=int, default=10_000)
    parser.add_argument("--params", type=int, default=20)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPU count, at most 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    ids = generate(args.root, args.runs, args.params, args.metrics, args.steps, args.jobs, args.seed)
    print(f"wrote {len(ids):,} runs to {args.root} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

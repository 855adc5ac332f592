"""The same logging loop through MLflow's and Aim's APIs, for the README's side-by-side figures.

Run it with a Python that has the peers installed (they are not project dependencies):

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install mlflow-skinny aim
    /tmp/peers/bin/python bench/bench_peers.py
"""
from __future__ import annotations

import os
import tempfile
import time


def bench_mlflow(root: str, n: int = 5_000, store: str = "file") -> None:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 refuses its file store otherwise
    import mlflow
    mlflow.set_tracking_uri(f"file://{root}/mlruns" if store == "file" else f"sqlite:///{root}/mlflow.db")
    if store != "file":
        n = n // 10
    with mlflow.start_run():
        t0 = time.perf_counter()
        for i in range(n):
            mlflow.log_metric("loss", 0.5, step=i)
        elapsed = time.perf_counter() - t0
    print(f"MLflow {mlflow.__version__} {store} store, log_metric: {n / elapsed:,.0f} calls/s")
    t0 = time.perf_counter()
    for _ in range(20):
        with mlflow.start_run():
            pass
    print(f"MLflow {store} store, run start + end: {(time.perf_counter() - t0) / 20 * 1000:.1f} ms")


def bench_mlflow_sqlite(root: str) -> None:
    bench_mlflow(root, store="sqlite")


def bench_aim(root: str, n: int = 20_000) -> None:
    import aim
    run = aim.Run(repo=os.path.join(root, "aim"))
    t0 = time.perf_counter()
    for i in range(n):
        run.track(0.5, name="loss", step=i)
    elapsed = time.perf_counter() - t0
    run.close()
    version = getattr(aim.__version__, '__version__', aim.__version__)
    print(f"Aim {version}, Run.track: {n / elapsed:,.0f} calls/s")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for bench in (bench_mlflow, bench_mlflow_sqlite, bench_aim):
            try:
                bench(tmp)
            except ImportError as e:
                print(f"{bench.__name__}: not installed ({e})")

"""Model serving, side by side: `tracker models serve` against `mlflow models serve --env-manager local`.

    .venv/bin/python bench/bench_serve.py [--seconds 10] [--mlflow-python PATH]

The same small random forest (20 trees, depth 8, 8 features) is saved by each library and served
by each command, one server after the other (never both at once), with one worker each. A Python
client on one keep-alive connection (http.client) sends `dataframe_split` JSON requests of 1 row,
then of 1,000 rows, one after another for `--seconds` each (after a warm-up), and prints requests
per second and p50/p99 latency. Both servers' answers are checked to be equal first.

MLflow's scoring server needs fastapi and uvicorn beside mlflow. The project's venv has them (MLflow
is in the test extra, for the MLflow store tests). Where it does not, make a separate venv and name its
interpreter: `python -m venv /tmp/mlflow-serve && /tmp/mlflow-serve/bin/pip install mlflow scikit-learn`,
then `--mlflow-python /tmp/mlflow-serve/bin/python`. Targets: at least MLflow's throughput, and a p50 of
at most 5 ms for a 1-row request.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe_machine

FEATURES, TREES, DEPTH = 8, 20, 8


def make_model():
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, FEATURES))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    return RandomForestClassifier(n_estimators=TREES, max_depth=DEPTH, random_state=0).fit(frame(X), y), X


def body(X, rows: int) -> bytes:
    columns = [f"f{i}" for i in range(FEATURES)]
    return json.dumps({"dataframe_split": {"columns": columns, "data": X[:rows].tolist()}}).encode()


def frame(X):
    import pandas as pd
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(FEATURES)])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no answer on port {port} within {timeout:g} s")


def measure(port: int, payload: bytes, seconds: float) -> dict:
    """Sequential requests on one keep-alive connection for ``seconds`` (after a one-second warm-up)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []
    warm_until = time.perf_counter() + 1.0
    end = None
    while True:
        start = time.perf_counter()
        conn.request("POST", "/invocations", body=payload, headers=headers)
        reply = conn.getresponse()
        reply.read()
        now = time.perf_counter()
        if reply.status != 200:
            raise RuntimeError(f"status {reply.status}")
        if now < warm_until:
            continue
        end = end or now + seconds
        latencies.append(now - start)
        if now >= end:
            break
    conn.close()
    latencies.sort()
    total = sum(latencies)
    return {"rps": len(latencies) / total, "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, "n": len(latencies)}


def predictions(port: int, payload: bytes) -> list:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/invocations", body=payload, headers={"Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    conn.close()
    return answer["predictions"]


def run_server(command: list[str], port: int, env: dict, X, seconds: float) -> dict:
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_up(port, process)
        result = {"answers": predictions(port, body(X, 1000))}
        for rows in (1, 1000):
            result[rows] = measure(port, body(X, rows), seconds)
        return result
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and anything it started
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per request size")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds, each server once a round in alternating order; the best round of each is shown")
    parser.add_argument("--mlflow-python", default=sys.executable, help="interpreter with mlflow, fastapi, uvicorn")
    args = parser.parse_args()
    import tracker
    model, X = make_model()
    expected = model.predict(frame(X[:1000])).tolist()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        tracker.sklearn.save_model(model, Path(tmp) / "tracker-model", input_example=frame(X[:2]))
        tracker.Client(root).register_model(Path(tmp) / "tracker-model", "bench",
                                            trusted=["sklearn.tree._tree.Tree"])
        mlflow_dir = Path(tmp) / "mlflow-model"
        subprocess.run([args.mlflow_python, "-c", "import pickle, sys, mlflow.sklearn\n"
                        "mlflow.sklearn.save_model(pickle.load(open(sys.argv[1], 'rb')), sys.argv[2],\n"
                        "                         skops_trusted_types=['sklearn.tree._tree.Tree'])",
                        _pickled(model, tmp), str(mlflow_dir)], check=True)
        env = {**os.environ, "PATH": os.pathsep.join([str(Path(args.mlflow_python).parent), os.environ["PATH"]])}
        commands = {
            "tracker": ([sys.executable, "-m", "tracker.cli", "models", "serve", "models:/bench/1", "--dir", str(root),
                         "--workers", "1", "--port"], os.environ.copy()),
            "mlflow": ([args.mlflow_python, "-m", "mlflow", "models", "serve", "-m", str(mlflow_dir), "--env-manager",
                        "local", "--host", "127.0.0.1", "--workers", "1", "--port"], env)}
        rounds: dict[str, list[dict]] = {"tracker": [], "mlflow": []}
        for n in range(args.rounds):
            for name in (["tracker", "mlflow"] if n % 2 == 0 else ["mlflow", "tracker"]):
                command, environment = commands[name]
                port = free_port()
                rounds[name].append(run_server([*command, str(port)], port, environment, X, args.seconds))
        ours, theirs = (best(rounds[name]) for name in ("tracker", "mlflow"))
    mlflow_version = subprocess.run([args.mlflow_python, "-c", "import mlflow; print(mlflow.__version__)"],
                                    capture_output=True, text=True).stdout.strip()
    assert ours["answers"] == expected and theirs["answers"] == expected, "the servers disagree with predict"
    print(f"machine: {describe_machine()}")
    print(f"model: random forest, {TREES} trees, depth {DEPTH}, {FEATURES} features; one keep-alive client, "
          f"{args.seconds:g} s per size, best of {args.rounds} rounds; MLflow {mlflow_version}")
    print(f"{'request':<10} {'server':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'n':>7}")
    for rows in (1, 1000):
        for name, result in (("tracker", ours), ("mlflow", theirs)):
            r = result[rows]
            print(f"{rows:>5} rows {name:<10} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['n']:>7}")
    ok = ours[1]["p50"] <= 5.0 and all(ours[rows]["rps"] >= theirs[rows]["rps"] for rows in (1, 1000))
    print(f"targets (p50 <= 5 ms for 1 row, throughput >= MLflow's): {'met' if ok else 'NOT met'}")
    return 0


def best(results: list[dict]) -> dict:
    """Each request size's round with the highest throughput (the machine's other work only slows a round)."""
    out = {"answers": results[0]["answers"]}
    assert all(r["answers"] == out["answers"] for r in results)
    for rows in (1, 1000):
        out[rows] = max((r[rows] for r in results), key=lambda r: r["rps"])
    return out


def _pickled(model, folder: str) -> str:
    import pickle
    path = os.path.join(folder, "model.pkl")
    with open(path, "wb") as f:
        pickle.dump(model, f)
    return path


if __name__ == "__main__":
    sys.exit(main())

"""Listing MLflow runs: tracker's reader (``tracker.mlflow_store``) vs MLflow's own ``search_runs``.

    .venv/bin/python bench/bench_mlflow_store.py [--runs 10000] [--kind both|sqlite|file]

Target: 10,000 MLflow runs open in the app in at most 3 s. Timed: ``open_store(path).scan()``,
every run with its params, tags and metric summaries (last, min, max, count, steps) read, as the
app's runs table needs them all; a file store keeps about 13 files a run. MLflow's
``MlflowClient.search_runs`` is timed on the same store, paging through every run, as a script
or MLflow's UI would.

For the file store, ``list_runs()`` is timed too, as the app lists a store: the runs as a table,
read in full by a first reader (no cache file), then by a new reader as a second process would
(its cache file in ``$XDG_CACHE_HOME``, here a temporary one; every file stat'd, none read), and
after MLflow appended a point to 1 % of the runs' metrics (only those runs read again).

The stores are generated directly (MLflow's API takes minutes for 10,000 runs): the SQLite rows
with ``executemany`` into a database whose schema MLflow itself created, the file store as the
files MLflow writes. Before timing, one generated run is read through MLflow's client and
compared with tracker's reading, so the generated stores are ones MLflow reads.
Needs the ``mlflow`` package (the test extra). Wall times depend on the machine's load (printed).
"""
from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

from bench.machine import describe_machine
from tracker.mlflow_store import open_store

PARAMS, METRICS, STEPS, START = 5, 3, 10, 1_700_000_000_000


def fake_runs(n: int, seed: int = 0):
    """(run id, name, params, tags, {key: [(step, ts, value)]}) for ``n`` runs."""
    rng = random.Random(seed)
    for i in range(n):
        run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        params = {f"p{j}": str(rng.choice([0.1, 0.01, 32, 64, "adam", "sgd"])) for j in range(PARAMS)}
        tags = {"mlflow.runName": f"run-{i}", "mlflow.user": "bench", "mlflow.source.type": "LOCAL",
                "mlflow.source.git.commit": f"{i:040x}"}
        metrics = {f"m{k}": [(s, START + i * 1000 + s, rng.random()) for s in range(STEPS)] for k in range(METRICS)}
        yield run_id, f"run-{i}", params, tags, metrics


def make_sqlite(folder: Path, n: int) -> tuple[Path, str]:
    import mlflow
    from mlflow import MlflowClient
    db = folder / "mlflow.db"
    uri = f"sqlite:///{db}"
    client = MlflowClient(uri)  # MLflow creates its schema (all migrations) here
    exp_id = client.create_experiment("bench", artifact_location=str(folder / "artifacts"))
    mlflow.set_tracking_uri(uri)
    conn = sqlite3.connect(db)
    runs, params, tags, metrics, latest = [], [], [], [], []
    for run_id, name, p, t, m in fake_runs(n):
        runs.append((run_id, name, "UNKNOWN", "", "", "bench", "FINISHED", START, START + 60_000, "", "active",
                     str(folder / "artifacts" / run_id / "artifacts"), int(exp_id)))
        params += [(k, v, run_id) for k, v in p.items()]
        tags += [(k, v, run_id) for k, v in t.items()]
        for key, points in m.items():
            metrics += [(key, v, ts, run_id, s, 0) for s, ts, v in points]
            s, ts, v = max(points)
            latest.append((key, v, ts, s, 0, run_id))
    with conn:
        conn.executemany("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, "
                         "status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        conn.executemany('INSERT INTO params ("key", value, run_uuid) VALUES (?,?,?)', params)
        conn.executemany('INSERT INTO tags ("key", value, run_uuid) VALUES (?,?,?)', tags)
        conn.executemany('INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)',
                         metrics)
        conn.executemany('INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan, run_uuid) '
                         "VALUES (?,?,?,?,?,?)", latest)
    conn.close()
    return db, exp_id


def make_file_store(folder: Path, n: int) -> tuple[Path, str]:
    from mlflow import MlflowClient
    root = folder / "mlruns"
    client = MlflowClient(root.as_uri())
    exp_id = client.create_experiment("bench")
    exp_dir = root / exp_id
    for run_id, name, p, t, m in fake_runs(n):
        run = exp_dir / run_id
        for sub in ("params", "tags", "metrics", "artifacts"):
            (run / sub).mkdir(parents=True)
        (run / "meta.yaml").write_text(
            f"artifact_uri: {(run / 'artifacts').as_uri()}\nend_time: {START + 60_000}\nentry_point_name: ''\n"
            f"experiment_id: '{exp_id}'\nlifecycle_stage: active\nrun_id: {run_id}\nrun_name: {name}\n"
            f"source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: {START}\nstatus: 3\ntags: []\n"
            "user_id: bench\n")
        for k, v in p.items():
            (run / "params" / k).write_text(v)
        for k, v in t.items():
            (run / "tags" / k).write_text(v)
        for key, points in m.items():
            (run / "metrics" / key).write_text("".join(f"{ts} {v} {s}\n" for s, ts, v in points))
    return root, exp_id


def check_against_mlflow(path: Path, uri: str, exp_id: str) -> None:
    """One generated run as MLflow's client reads it must be what tracker's reader reads."""
    from mlflow import MlflowClient
    theirs = MlflowClient(uri).search_runs([exp_id], max_results=1)[0]
    ours = open_store(path).get_run(theirs.info.run_id)
    assert ours.data.params == theirs.data.params, "params differ"
    assert {k: v for k, v in ours.data.tags.items() if not k.startswith("tracker.")} == theirs.data.tags
    assert ours.data.metrics == theirs.data.metrics, "metrics differ"
    assert ours.info.status == theirs.info.status and ours.info.run_name == theirs.info.run_name


def median_seconds(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``fn()`` over ``repeat`` calls, and the last result. CPU time
    says what the work costs when the machine is shared (wall time grows with the load)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def bench_listing(path: Path, n: int, repeat: int, cache_home: Path) -> str:
    """``list_runs()`` by a first reader, then by new readers with the cache file: wall (CPU) seconds."""
    from tracker.mlflow_store import file_cache
    os.environ["XDG_CACHE_HOME"] = str(cache_home)
    cache = file_cache.cache_path(path)
    settled = file_cache.RACY_NS
    file_cache.RACY_NS = 0  # the store was written seconds ago: take its files' stat as settled

    def first():
        cache.unlink(missing_ok=True)
        return open_store(path).list_runs()

    def run_folders() -> list[str]:
        return sorted(os.path.join(e.path, r.name) for e in os.scandir(path) if e.is_dir() and e.name[0].isdigit()
                      for r in os.scandir(e.path) if r.is_dir())

    try:
        cold, cold_cpu, listing = median_seconds(first, repeat)
        assert listing.table.n == n and len(listing.read) == n
        warm, warm_cpu, listing = median_seconds(lambda: open_store(path).list_runs(), repeat)
        assert listing.table.n == n and not listing.read, len(listing.read)
        changed = run_folders()[:: 100]
        for folder in changed:
            with open(os.path.join(folder, "metrics", "m0"), "a") as f:
                f.write(f"{START} 0.5 {STEPS}\n")
        t0, c0 = time.perf_counter(), time.process_time()
        listing = open_store(path).list_runs()
        some, some_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert listing.table.n == n and len(listing.read) == len(changed), (len(listing.read), len(changed))
    finally:
        file_cache.RACY_NS = settled
    size = cache.stat().st_size / 1e6
    return (f"  {'tracker list_runs(), first (no cache)':37}{cold:5.2f} ({cold_cpu:.2f})\n"
            f"  {'list_runs(), a new reader, cache file':37}{warm:5.2f} ({warm_cpu:.2f})   cache file {size:.1f} MB\n"
            f"  {f'list_runs() after {len(changed)} runs changed':37}{some:5.2f} ({some_cpu:.2f})"
            f"   {len(listing.read)} runs read")


def mlflow_search_all(uri: str, exp_id: str) -> int:
    from mlflow import MlflowClient
    client, token, count = MlflowClient(uri), None, 0
    while True:
        page = client.search_runs([exp_id], max_results=50_000, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            return count


def bench(kind: str, n: int, folder: Path, repeat: int) -> None:
    t0 = time.perf_counter()
    (folder / kind).mkdir(parents=True, exist_ok=True)
    path, exp_id = (make_sqlite if kind == "sqlite" else make_file_store)(folder / kind, n)
    made = time.perf_counter() - t0
    uri = f"sqlite:///{path}" if kind == "sqlite" else path.as_uri()
    check_against_mlflow(path, uri, exp_id)
    ours, ours_cpu, (runs, bad) = median_seconds(lambda: open_store(path).scan(), repeat)
    assert len(runs) == n and not bad, (len(runs), bad[:3])
    summaries = sum(len(r.data.summaries) for r in runs)
    assert summaries == n * METRICS and all(s.count == STEPS for r in runs for s in r.data.summaries.values())
    theirs, theirs_cpu, count = median_seconds(lambda: mlflow_search_all(uri, exp_id), repeat)
    assert count == n, count
    listing = bench_listing(path, n, repeat, folder / "cache") if kind == "file" else ""
    print(f"{kind:6} {n:,} runs (generated in {made:.1f} s), wall (CPU) seconds:\n"
          f"  tracker scan(), everything read      {ours:5.2f} ({ours_cpu:.2f})"
          f"{'' if ours <= 3.0 else '  over the 3 s target'}\n"
          f"  MLflow search_runs                   {theirs:5.2f} ({theirs_cpu:.2f})   {theirs / ours:.1f}x scan()"
          + (f"\n{listing}" if listing else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--kind", choices=["both", "sqlite", "file"], default="both")
    parser.add_argument("--repeat", type=int, default=3, help="median of this many timings (default 3)")
    args = parser.parse_args()
    print(describe_machine())
    print(f"each run: {PARAMS} params, 4 tags, {METRICS} metrics x {STEPS} steps")
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-") as tmp:
        for kind in (["sqlite", "file"] if args.kind == "both" else [args.kind]):
            bench(kind, args.runs, Path(tmp), args.repeat)


if __name__ == "__main__":
    main()

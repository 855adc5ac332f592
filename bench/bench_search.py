"""``Client.search_runs``: tracker vs MLflow's SQLite store on the same N runs (default 10,000).

    .venv/bin/python bench/bench_search.py               # 10,000 runs
    .venv/bin/python bench/bench_search.py -n 100000 --repeat 1
    .venv/bin/python bench/bench_search.py --queries ab  # only queries (a) and (b)
    .venv/bin/python bench/bench_search.py --profile a   # cProfile of tracker's warm search for query (a)
    .venv/bin/python bench/bench_search.py --tracker-only  # tracker alone, each query beside the floor

The runs are written once and kept under the temp dir (the folder's name holds N and a data
version): tracker's runs by ``bench/generate_runs.py`` (the data ``bench_app.py`` uses), then the
same runs, read back through ``tracker.Client``, into an MLflow SQLite store through MLflow's own
client (``create_run``, one ``log_batch`` per run, ``set_terminated``): the same run names,
experiments, statuses, start and end times, params, tags, and each metric's value at its highest
step with that step and timestamp.

Each query is run by ``tracker.Client(root).search_runs`` and ``MlflowClient(sqlite).search_runs``
in fresh processes, one library per process: "cold" is the first search call in the process (the
import and the client's construction are timed apart and printed separately; the OS page cache
and tracker's index file are warm), "warm" is the best of 5 calls after it in the same process.
Each figure is the median over ``--repeat`` processes. Both libraries must return the same runs in
the same order (equal sort keys may come in either order); anything else stops the benchmark.
Wall times depend on the machine's load, printed with the machine.

How long it takes: writing MLflow's copy of 10,000 runs takes about 6 minutes (once; MLflow's
client writes about 30 runs a second), so 100,000 runs about an hour; a 10,000-run benchmark
then takes about 10 minutes, most of it MLflow's top 100 by a metric (several seconds a call).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

DATA_VERSION = 1  # bump when the generated runs or the MLflow copy change
WARM_CALLS = 5
TIMEOUT_S = 3600  # one process: MLflow's top 100 by a metric over 100,000 runs takes minutes a call


@dataclass(frozen=True)
class Query:
    key: str
    label: str
    filter_string: str = ""
    order_by: tuple[str, ...] = ()
    max_results: int = 1000  # MLflow's default for the client; tracker's default is every match
    order_metric: str | None = None  # the metric the results are sorted by, to accept ties in either order


QUERIES = [
    Query("a", "param and metric filter", "params.optimizer = 'adam' and metrics.accuracy > 0.9"),
    Query("b", "top 100 by accuracy", order_by=("metrics.accuracy DESC",), max_results=100,
          order_metric="accuracy"),
    Query("c", "tag filter", "tags.seed = '3'"),
    Query("d", "first 1,000, no filter"),
    Query("e", "run_name LIKE '%42%'", "run_name LIKE '%42%'"),
]
BY_KEY = {q.key: q for q in QUERIES}


# ---- the data: tracker's runs, and the same runs in MLflow's SQLite store -------------------------

def data_folder(n: int) -> Path:
    return Path(tempfile.gettempdir()) / f"tracker-bench-search-n{n}-v{DATA_VERSION}"


def ensure_data(n: int) -> dict:
    """The folder's description (paths, MLflow's experiment ids), writing the runs when missing."""
    folder = data_folder(n)
    marker = folder / "ready.json"
    try:
        ready = json.loads(marker.read_text())
        if ready.get("runs") == n and ready.get("version") == DATA_VERSION:
            return ready
    except (OSError, ValueError):
        pass
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    from generate_runs import generate
    t0 = time.perf_counter()
    generate(folder / "runs", n)
    print(f"tracker: wrote {n:,} runs in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    experiment_ids = write_mlflow_copy(folder / "runs", folder / "mlflow.db", folder / "mlflow-artifacts")
    print(f"MLflow: wrote the same {n:,} runs in {time.perf_counter() - t0:.1f} s", flush=True)
    ready = {"runs": n, "version": DATA_VERSION, "root": str(folder / "runs"),
             "uri": f"sqlite:///{folder / 'mlflow.db'}", "experiment_ids": experiment_ids}
    check_copy(ready)
    marker.write_text(json.dumps(ready))
    return ready


def _fast_sqlite_commits() -> None:
    """Writing only: commits without fsync (MLflow commits three times a run). The timed
    processes never call this, so the searches run on MLflow's default connection settings."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _no_sync(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def write_mlflow_copy(root: Path, db: Path, artifacts: Path) -> list[str]:
    """Write every run of ``root`` into a new MLflow SQLite store; returns MLflow's experiment ids."""
    import tracker
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    _fast_sqlite_commits()
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    ours = tracker.Client(root)
    ids = {"Default": "0"}
    for experiment in ours.search_experiments():
        if experiment.name != "Default":
            ids[experiment.name] = client.create_experiment(experiment.name,
                                                            artifact_location=str(artifacts / experiment.name))
    total, t0 = len(ours.runs_table().readable_rows()), time.perf_counter()
    for done, run in enumerate(_pages(ours), 1):
        info, data = run.info, run.data
        created = client.create_run(ids[info.experiment], start_time=info.start_time, tags=dict(data.tags),
                                    run_name=info.run_name)
        metrics = [Metric(s.key, s.value_at_max_step, s.last_timestamp, s.max_step) for s in data.summaries.values()]
        client.log_batch(created.info.run_id, metrics=metrics, params=[Param(k, v) for k, v in data.params.items()])
        client.set_terminated(created.info.run_id, info.status, end_time=info.end_time)
        if done % 2000 == 0:
            left = (time.perf_counter() - t0) / done * (total - done)
            print(f"  MLflow: {done:,} of {total:,} runs written, about {left:.0f} s to go", flush=True)
    return sorted(ids.values())


def _pages(client, size: int = 2000):
    """Every run, a page at a time (100,000 runs as Run objects at once would take gigabytes)."""
    token = None
    while True:
        page = client.search_runs(None, "", max_results=size, order_by=["attributes.start_time ASC"],
                                  page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def check_copy(ready: dict) -> None:
    """A few runs read through both libraries must hold the same values."""
    import tracker
    from mlflow import MlflowClient
    ours = {r.info.run_name: r for r in tracker.Client(ready["root"]).search_runs(max_results=20)}
    theirs = MlflowClient(tracking_uri=ready["uri"]).search_runs(ready["experiment_ids"], max_results=20)
    if len(theirs) != len(ours):
        raise SystemExit(f"the MLflow copy differs: {len(theirs)} runs, not {len(ours)}")
    for run in theirs:
        mine = ours[run.info.run_name]
        same = (run.data.params == mine.data.params and run.data.metrics == mine.data.metrics
                and mine.data.tags.items() <= run.data.tags.items() and run.info.status == mine.info.status
                and (run.info.start_time, run.info.end_time) == (mine.info.start_time, mine.info.end_time))
        if not same:
            raise SystemExit(f"the MLflow copy of {run.info.run_name} differs:\n{run}\n{mine}")


# ---- one fresh process: import, client, first search (cold), then warm searches -------------------

def search_once(lib: str, client, ready: dict, query: Query) -> list:
    order_by = list(query.order_by) or None
    if lib == "tracker":
        return client.search_runs(None, query.filter_string, order_by=order_by, max_results=query.max_results)
    return client.search_runs(ready["experiment_ids"], query.filter_string, order_by=order_by,
                              max_results=query.max_results)


def child(lib: str, query: Query, ready: dict) -> dict:
    t0 = time.perf_counter()
    if lib == "tracker":
        from tracker import Client  # the package imports its modules on first use: this is the import
        t1 = time.perf_counter()
        client = Client(ready["root"])
    else:
        from mlflow import MlflowClient
        t1 = time.perf_counter()
        client = MlflowClient(tracking_uri=ready["uri"])
    t2 = time.perf_counter()
    runs = search_once(lib, client, ready, query)
    t3 = time.perf_counter()
    warm, cpu = [], []
    for _ in range(WARM_CALLS):
        t, c = time.perf_counter(), time.process_time()
        search_once(lib, client, ready, query)
        warm.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    rows = [[r.info.run_name, r.data.metrics.get(query.order_metric) if query.order_metric else None] for r in runs]
    out = {"import": t1 - t0, "client": t2 - t1, "cold": t3 - t2, "warm": min(warm), "cpu": min(cpu), "rows": rows}
    if lib == "tracker":
        out["floor"] = min(check_floor(ready["root"]) for _ in range(WARM_CALLS))
    return out


def check_floor(root: str) -> float:
    """What any search that sees every change must do at least, timed in plain Python: list the root
    and stat each run folder's run.json (relative to the open root, in one comprehension)."""
    t = time.perf_counter()
    names = [name for name in os.listdir(root) if len(name) == 32]
    fd = os.open(root, os.O_RDONLY)
    try:
        [os.stat(name + "/run.json", dir_fd=fd) for name in names]
    finally:
        os.close(fd)
    return time.perf_counter() - t


def spawn(lib: str, query: Query, n: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, __file__, "-n", str(n), "--child", lib, query.key],
                          capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{lib} on query ({query.key}) failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# ---- the parent: compare, then print the table --------------------------------------------------

def check_same(query: Query, ours: list, theirs: list) -> str:
    """'same runs', or 'same count and sort keys' for ties; raises SystemExit otherwise."""
    if [r[0] for r in ours] == [r[0] for r in theirs]:
        return "same runs"
    if query.order_metric and len(ours) == len(theirs) and [r[1] for r in ours] == [r[1] for r in theirs]:
        return "same count and sort keys (ties)"
    only_ours = sorted({r[0] for r in ours} - {r[0] for r in theirs})[:5]
    only_theirs = sorted({r[0] for r in theirs} - {r[0] for r in ours})[:5]
    raise SystemExit(f"query ({query.key}) {query.label!r}: tracker returned {len(ours)} runs, MLflow {len(theirs)}; "
                     f"only tracker: {only_ours}, only MLflow: {only_theirs}; first rows {ours[:3]} vs {theirs[:3]}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def describe_tree() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = " (tracker/ has uncommitted changes)" if git("status", "--porcelain", "--", "tracker") else ""
    return f"tracker at {git('rev-parse', '--short', 'HEAD')}{dirty}"


def run_benchmark(n: int, repeat: int, keys: list[str]) -> None:
    from machine import describe_machine
    import mlflow
    ensure_data(n)  # writes the runs (and MLflow's copy) when they are missing
    print(f"{n:,} runs; {describe_tree()}, MLflow {mlflow.__version__} (SQLite store)")
    print(f"machine: {describe_machine()}")
    print(f"cold: first search in a fresh process; warm: best of {WARM_CALLS} after it; cpu: the least CPU time "
          f"of those {WARM_CALLS} (what a search costs when the machine is shared);\nmedian of {repeat} processes; "
          "times in ms; ratio = MLflow / tracker\n")
    header = f"{'query':32} {'runs':>5} | {'tracker':^23} | {'MLflow':^23} | {'ratio':^20}"
    print(header.rstrip())
    print(f"{'':32} {'':>5} | {'cold':>7} {'warm':>7} {'cpu':>7} | {'cold':>7} {'warm':>7} {'cpu':>7} | "
          f"{'cold':>6} {'warm':>6} {'cpu':>6}")
    print("-" * len(header))
    setup = {"tracker": [], "mlflow": []}
    notes, floors = [], []
    for query in (BY_KEY[k] for k in keys):
        got = {lib: [spawn(lib, query, n) for _ in range(repeat)] for lib in ("tracker", "mlflow")}
        floors += got["tracker"]
        verdict = check_same(query, got["tracker"][0]["rows"], got["mlflow"][0]["rows"])
        if verdict != "same runs":
            notes.append(f"({query.key}) {verdict}")
        fig = {lib: {f: statistics.median(r[f] for r in results) for f in ("import", "client", "cold", "warm", "cpu")}
               for lib, results in got.items()}
        for lib in setup:
            setup[lib].append(fig[lib])
        t, m = fig["tracker"], fig["mlflow"]
        label = f"({query.key}) {query.label}"
        ratios = " ".join(f"{m[f] / t[f]:5.1f}x" if t[f] else "     -" for f in ("cold", "warm", "cpu"))
        print(f"{label[:32]:32} {len(got['tracker'][0]['rows']):>5} | {ms(t['cold'])} {ms(t['warm'])} {ms(t['cpu'])} | "
              f"{ms(m['cold'])} {ms(m['warm'])} {ms(m['cpu'])} | {ratios}")
    print()
    floor = statistics.median(r["floor"] for r in floors)
    print(f"the floor: listing the runs and a stat of each run.json, nothing else (best of {WARM_CALLS} in each "
          f"tracker process, median): {floor * 1000:.1f} ms")
    for lib, name in (("tracker", "from tracker import Client"), ("mlflow", "from mlflow import MlflowClient")):
        imp = statistics.median(f["import"] for f in setup[lib])
        cli = statistics.median(f["client"] for f in setup[lib])
        print(f"{name:32} {imp * 1000:7.0f} ms; constructing the client {cli * 1000:6.1f} ms (not in 'cold')")
    for line in notes:
        print(line)
    for query in (BY_KEY[k] for k in keys):
        print(f"({query.key}) filter {query.filter_string!r}, order_by {list(query.order_by)}, "
              f"max_results {query.max_results}")


def run_tracker_only(n: int, repeat: int, keys: list[str]) -> None:
    """tracker's figures alone, with the floor beside each query (no MLflow process is started)."""
    from machine import describe_machine
    ensure_data(n)
    print(f"{n:,} runs; {describe_tree()}\nmachine: {describe_machine()}\nmedian of {repeat} processes; warm: best "
          f"of {WARM_CALLS}; floor: listing + a stat of each run.json alone, best of {WARM_CALLS}; times in ms\n")
    print(f"{'query':32} {'runs':>5} | {'cold':>7} {'warm':>7} {'cpu':>7} {'floor':>7}")
    for query in (BY_KEY[k] for k in keys):
        results = [spawn("tracker", query, n) for _ in range(repeat)]
        fig = {f: statistics.median(r[f] for r in results) for f in ("cold", "warm", "cpu", "floor")}
        label = f"({query.key}) {query.label}"
        print(f"{label[:32]:32} {len(results[0]['rows']):>5} | {ms(fig['cold'])} {ms(fig['warm'])} {ms(fig['cpu'])} "
              f"{ms(fig['floor'])}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def profile(n: int, key: str) -> None:
    """cProfile of tracker's warm search for one query (after one untimed call)."""
    import cProfile
    import pstats
    import tracker
    ready, query = ensure_data(n), BY_KEY[key]
    client = tracker.Client(ready["root"])
    search_once("tracker", client, ready, query)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(WARM_CALLS):
        search_once("tracker", client, ready, query)
    profiler.disable()
    print(f"tracker, query ({key}) {query.label}: {WARM_CALLS} warm calls")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(20)
    stats.sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per library and query (median)")
    parser.add_argument("--queries", default="".join(BY_KEY), help="which queries, e.g. 'ab' (default: all)")
    parser.add_argument("--tracker-only", action="store_true",
                        help="time tracker alone (no MLflow processes, no comparison): quick before/after checks")
    parser.add_argument("--profile", metavar="QUERY", choices=list(BY_KEY), help="profile tracker's warm search")
    parser.add_argument("--child", nargs=2, metavar=("LIB", "QUERY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        lib, key = args.child
        ready = json.loads((data_folder(args.runs) / "ready.json").read_text())
        print("RESULT " + json.dumps(child(lib, BY_KEY[key], ready)), flush=True)
    elif args.profile:
        profile(args.runs, args.profile)
    elif args.tracker_only:
        run_tracker_only(args.runs, args.repeat, [k for k in args.queries if k in BY_KEY])
    else:
        run_benchmark(args.runs, args.repeat, [k for k in args.queries if k in BY_KEY])


if __name__ == "__main__":
    main()

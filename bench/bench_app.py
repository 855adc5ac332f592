"""Benchmark of the desktop app's data side on a large runs directory. Headless.

    .venv/bin/python bench/bench_app.py            # 10,000 runs x 20 params x 10 metrics x 100 steps
    .venv/bin/python bench/bench_app.py -n 2000 --dir /tmp/runs-2k

Measures, each in a fresh process (``bench/app_child.py``, QT_QPA_PLATFORM=offscreen):
- start to a filled runs table, cold (no index) and warm (index in place): from just before
  the process is spawned (it starts as ``tracker-app DIR`` does, ``app.main.launch``) to the
  moment the runs table holds every run, and to its next full paint;
- a filter keystroke to an updated (and repainted) table;
- peak memory (``resource.getrusage`` maxrss) of the app process;
- a run written by another process, visible in the table after the writer's flush, and a
  new metric value of a running run visible after its flush.
It drives the full window (``app.MainWindow``, table ``runsTable``, filter ``runFilter``)
when it can be imported, and ``app.runs.source.RunsSource`` plus the index alone otherwise
(then the filter figure is ``tracker.filter`` over the loaded runs).

The generated directory is kept (``--dir``, default under the temp dir) and reused when it
matches. "Cold" means no index; the OS page cache is kept warm (every run.json is read just before:
dropping the cache would disturb everything else on the machine).
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))
from machine import describe_machine  # noqa: E402

TIMEOUT_S = 300  # generous: 100,000 runs read cold on a busy 2-core machine


# ---- the parent: prepare, spawn, report ---------------------------------------------------------

def _drop_index(root: Path, cache: Path) -> None:
    """No index; every run.json read once just before, so that a first open reads them from the
    page cache. (This VM reclaims the page cache of files left alone for a while: without the
    read, a first open of 10,000 runs took 1.3-5.7 s depending on how long ago they were read.)"""
    for p in [*root.glob(".tracker-index.db*"), *root.glob(".tracker-index.npz")]:
        p.unlink()
    shutil.rmtree(cache, ignore_errors=True)
    for entry in os.scandir(root):
        try:
            with open(os.path.join(entry.path, "run.json"), "rb") as f:
                f.read()
        except OSError:
            pass


def _remove_live_runs(root: Path) -> None:
    """Runs a previous live measurement left behind (so every measurement sees the same N runs)."""
    from tracker import store
    for run in store.read_all_runs(root)[0]:
        if run.info.run_name.startswith("bench-live-"):
            shutil.rmtree(run.path, ignore_errors=True)


def _spawn(root: Path, mode: str, workdir: Path, *flags: str) -> dict:
    expected = sum(1 for e in os.scandir(root) if len(e.name) == 32 and e.is_dir())
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(workdir / "config"),
           "XDG_CACHE_HOME": str(workdir / "cache"), "PYTHONPATH": str(REPO)}
    env.pop("TRACKER_POLLING", None)
    shutil.rmtree(workdir / "config", ignore_errors=True)  # fresh QSettings every time
    t_spawn = time.time()
    proc = subprocess.run([sys.executable, str(HERE / "app_child.py"), mode, str(root),
                           "--expect", str(expected), *flags],
                          capture_output=True, text=True, env=env, timeout=TIMEOUT_S * 3)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    out = json.loads(lines[-1][len("RESULT "):])
    out["start_to_filled"] = out["t_filled"] - t_spawn
    if "t_painted" in out:
        out["start_to_painted"] = out["t_painted"] - t_spawn
    out["python_and_imports"] = out["t_imported"] - t_spawn
    out["start_to_window"] = out["t_constructed"] - t_spawn
    return out


_INDEX_ONLY = """
import sys, time
from tracker.index import RunIndex
t0 = time.perf_counter()
result = RunIndex(sys.argv[1]).refresh()
print(time.perf_counter() - t0, result.cached, result.reread)
"""


def _index_alone(root: Path, workdir: Path) -> tuple[float, int, int]:
    """RunIndex.refresh in a fresh process without Qt: seconds, runs from the index, runs read."""
    env = {**os.environ, "XDG_CACHE_HOME": str(workdir / "cache"), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", _INDEX_ONLY, str(root)], capture_output=True, text=True,
                         env=env, timeout=TIMEOUT_S, check=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def _ensure_runs(root: Path, n: int) -> None:
    marker = root / ".bench-generated.json"
    wanted = {"runs": n, "params": 20, "metrics": 10, "steps": 100, "version": 2}
    try:
        if json.loads(marker.read_text()) == wanted:
            return
    except (OSError, ValueError):
        pass
    from generate_runs import generate
    if root.exists():
        shutil.rmtree(root)
    t0 = time.perf_counter()
    generate(root, n)
    marker.write_text(json.dumps(wanted))
    print(f"generated {n:,} runs x 20 params x 10 metrics x 100 steps in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "tracker-bench-runs")
    parser.add_argument("--repeat", type=int, default=3, help="warm starts to measure (the median is reported)")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    # Start-up as on a user's machine from the second start on: Python has cached the bytecode
    # of the app's modules (here PYTHONDONTWRITEBYTECODE may keep it from doing so itself).
    for package in ("app", "tracker"):
        compileall.compile_dir(str(REPO / package), quiet=1)
    root = args.dir.absolute()
    workdir = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    try:
        _ensure_runs(root, args.runs)
        _remove_live_runs(root)
        print(f"bench_app: {args.runs:,} runs in {root}\n{describe_machine()}\n")
        mode = "window"
        try:
            import app  # noqa: F401
            from app.shell.window import MainWindow  # noqa: F401
        except ImportError as e:
            print(f"app.MainWindow is not importable ({e}): measuring RunsSource and the index alone\n")
            mode = "source"

        _drop_index(root, workdir / "cache")
        cold_index = _index_alone(root, workdir)
        warm_index = sorted(_index_alone(root, workdir) for _ in range(3))[1]
        print(f"tracker.index.RunIndex.refresh alone: cold {cold_index[0]:.2f} s ({cold_index[2]:,} runs read), "
              f"warm {warm_index[0]:.2f} s ({warm_index[1]:,} from the index; median of 3)\n")

        rows = []
        _drop_index(root, workdir / "cache")
        cold = _spawn(root, mode, workdir)
        rows.append(("cold (no index)", cold))
        warm = [_spawn(root, mode, workdir) for _ in range(args.repeat)]
        warm.sort(key=lambda r: r["start_to_filled"])
        rows.append((f"warm (index), median of {len(warm)}", warm[len(warm) // 2]))
        source_cold_warm = []
        if mode == "window":
            _drop_index(root, workdir / "cache")
            source_cold_warm.append(("RunsSource alone, cold", _spawn(root, "source", workdir)))
            source_cold_warm.append(("RunsSource alone, warm", _spawn(root, "source", workdir)))

        print(f"{'':32s} {'start->filled':>13s} {'->painted':>9s} {'start->window':>13s} "
              f"{'window->filled':>14s} {'(worker)':>8s} {'gui gap':>8s} {'->checked':>9s} {'gap':>6s} "
              f"{'maxrss':>7s}")
        for label, r in rows + source_cold_warm:
            painted = f"{r['start_to_painted']:.2f} s" if "start_to_painted" in r else "-"
            print(f"{label:32s} {r['start_to_filled']:11.2f} s {painted:>9s} {r['start_to_window']:11.2f} s "
                  f"{r['open_to_filled']:12.2f} s {r['worker_load']:6.2f} s "
                  f"{r['worst_gui_gap_ms_while_loading']:5.0f} ms {r['checked']:7.2f} s "
                  f"{r['worst_gui_gap_ms_while_checking']:3.0f} ms {r['maxrss_mb']:4.0f} MB")
        print(f"  rows shown: {rows[0][1]['rows']:,}; watching with {rows[0][1]['watch_mode']}")
        for label, r in rows:
            if "open_to_first_rows" in r:
                print(f"  {label}: first rows shown {r['open_to_first_rows']:.2f} s after the directory was opened")
        print("  start: just before the process is spawned; window: `app.main.launch` has returned (Qt"
              "\n  imported, window shown, directory opening; for RunsSource alone: it is constructed);"
              "\n  (worker): the loading thread's time to the first table it handed over;"
              "\n  gui gap: the longest the GUI thread was unresponsive while loading;"
              "\n  ->checked: open to the end of the check of the stored table (or of reading every run)"
              "\n  and the first run's page shown,"
              "\n  gap: the longest GUI stall from the fill to then")
        if len(warm) > 1:
            print("  warm start->filled, all: " + ", ".join(f"{r['start_to_filled']:.2f} s" for r in warm))

        detail = _spawn(root, mode, workdir, "--filter", "--live")
        print("\nfilter keystroke to updated, repainted table (5 keystrokes each):")
        for label, f in detail["filter"].items():
            if "ms_median" in f:
                check = "" if f["rows_by_tracker_filter"] in (None, f["rows"]) else \
                    f"  (tracker.filter says {f['rows_by_tracker_filter']:,}!)"
                print(f"  {label:45s} median {f['ms_median']:6.1f} ms, max {f['ms_max']:6.1f} ms, "
                      f"{f['rows']:,} rows{check}  (in order: {', '.join(f'{t:.0f}' for t in f['ms_all'])})")
            else:
                print(f"  {label:45s} {f['ms']:6.1f} ms (tracker.filter, no window), {f['rows']:,} rows")
        for label, f in detail.get("sort", {}).items():
            print(f"  sort {label:40s} median {f['ms_median']:6.1f} ms, max {f['ms_max']:6.1f} ms")
        live = detail["live"]
        print("\nanother process's run, visible after its flush (5 writers):")
        print(f"  new run:             {', '.join(map(str, live['new_run_ms']))} ms "
              f"(max {max(live['new_run_ms'])} ms)")
        print(f"  new metric value:    {', '.join(map(str, live['new_value_ms']))} ms "
              f"(max {max(live['new_value_ms'])} ms)")
        print(f"\npeak memory (maxrss) of that process: {detail['maxrss_mb']:.0f} MB")
        _remove_live_runs(root)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Model registry figures: register 1,000 small versions (budget 10 s), list and search
1,000 versions (50 ms), resolve a models:/ URI (5 ms besides loading the model).

    .venv/bin/python bench/bench_registry.py

Registration is timed twice: in a tracking directory holding 50 runs with 4 artifacts each (so
each registration from outside a run also pays for the "who produced this file?" content lookup),
and in one without runs. Wall times depend on the machine's load, which is printed; CPU times less so.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tracker
from tracker.registry.registry import Registry

MODELS, PER_MODEL, RUNS = 10, 100, 50


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time in ms over ``repeat`` calls (after one warm-up call), and the last result."""
    result = fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def line(label: str, value_ms: float, budget_ms: float | None = None, extra: str = "") -> bool:
    ok = budget_ms is None or value_ms <= budget_ms
    budget = f"(budget {budget_ms:g} ms: {'ok' if ok else 'OVER'})" if budget_ms is not None else ""
    print(f"  {label:<60} {value_ms:9.2f} ms  {budget} {extra}".rstrip())
    return ok


def make_sources(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    sources = []
    for i in range(PER_MODEL):
        path = folder / f"model-{i}.bin"
        path.write_bytes(os.urandom(2048))
        sources.append(path)
    return sources


def register_all(registry: Registry, sources: list[Path]) -> tuple[float, float]:
    """Register MODELS x PER_MODEL versions; (wall ms, CPU ms) in all."""
    wall, cpu = time.perf_counter(), time.process_time()
    for m in range(MODELS):
        for path in sources:
            registry.register_model(path, f"model-{m}", tags={"batch": str(m % 3)})
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        root = Path(tmp)
        sources = make_sources(root / "src")
        count = MODELS * PER_MODEL
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"registry bench: {count} versions of {MODELS} models (python {sys.version.split()[0]}, "
              f"{os.cpu_count()} cpus, load average {load:.2f})")
        ok = True

        # With runs in the directory, registering a file from outside them also pays for the
        # "who produced this file?" content lookup over every run's artifacts.
        tracker.set_tracking_dir(root / "with-runs")
        for i in range(RUNS):
            with tracker.start_run(run_name=f"run-{i}"):
                tracker.log_param("i", i)
                for j in range(4):
                    tracker.log_text(f"artifact {i}/{j} " + "x" * (100 + j), f"out/a{j}.txt")
        wall, cpu = register_all(Registry(root / "with-runs"), sources)
        ok &= line(f"register {count} x 2 KiB versions, {RUNS} runs x 4 artifacts", wall, 10_000,
                   f"= {wall / count:.2f} ms/version ({cpu / count:.2f} ms CPU)")

        tracker.set_tracking_dir(root / "runs")
        client = tracker.Client()
        registry = client.registry
        wall, cpu = register_all(registry, sources)
        ok &= line(f"register {count} x 2 KiB versions, no runs", wall, 10_000,
                   f"= {wall / count:.2f} ms/version ({cpu / count:.2f} ms CPU)")

        registry.transition_model_version_stage("model-0", 90, "Production")
        registry.transition_model_version_stage("model-0", 95, "Staging")
        registry.set_registered_model_alias("model-0", "champion", 90)

        ms, found = timed(lambda: client.search_model_versions(), 7)
        ok &= line(f"search_model_versions() -> {len(found)} versions", ms, 50)
        ms, found = timed(lambda: client.search_model_versions("tags.batch = '1' AND version > 50"), 7)
        ok &= line(f"search_model_versions(tags + version filter) -> {len(found)}", ms, 50)
        ms, found = timed(lambda: client.search_model_versions("name = 'model-0'"), 7)
        ok &= line(f"search_model_versions(name = 'model-0') -> {len(found)}", ms, 50)
        ms, found = timed(lambda: client.search_registered_models(), 7)
        ok &= line(f"search_registered_models() with latest/stages -> {len(found)}", ms, 50)
        ms, found = timed(lambda: client.list_model_versions("model-0"), 7)
        ok &= line(f"list_model_versions('model-0') -> {len(found)}", ms, 50)

        for uri in ("models:/model-0/42", "models:/model-0/Production", "models:/model-0@champion",
                    "models:/model-0/latest"):
            ms, _ = timed(lambda: tracker.registry.resolve_models_uri(uri), 200)
            ok &= line(f"resolve {uri} (sha256 verified)", ms, 5)
        ms, _ = timed(lambda: registry.resolve_models_uri("models:/model-0/42"), 200)
        line("  same, on an open Registry (no per-call registry lookup)", ms)
        ms, _ = timed(lambda: registry.resolve_models_uri("models:/model-0/42", verify=False), 200)
        line("  same, Registry, verify=False (the lookup alone)", ms)
        ms, _ = timed(lambda: client.registry_changed_token(), 200)
        line("registry_changed_token()", ms)
        ms, _ = timed(lambda: client.get_model_history("model-0"), 20)
        line("get_model_history('model-0') (~105 entries)", ms)
        ms, _ = timed(lambda: Registry.open(root / "with-runs").find_runs_by_file(sources[0]), 20)
        line(f"find_runs_by_file (no match, {RUNS * 4} artifacts)", ms)
        start = time.perf_counter()
        Registry(root / "runs").close()
        line("open an existing registry (schema check)", (time.perf_counter() - start) * 1000)
        tracker.set_tracking_dir(None)
        print("all within budget" if ok else "SOME FIGURES ARE OVER BUDGET")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

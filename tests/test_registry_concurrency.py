"""Several processes at once: registrations get contiguous numbers, a fresh registry is created once.

Workers are separate interpreters (subprocess), released together through a "go" file once all of
them have imported tracker and are waiting, so the contention is real and the test deterministic.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import tracker
from tracker.registry import Registry
from tracker.registry.db import SCHEMA_VERSION

WORKER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    tracking_dir, index, count, mode = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    from tracker.registry.registry import Registry
    src = tracking_dir.parent / f"src-{index}.bin"
    src.write_bytes(f"worker {index}".encode())
    (tracking_dir.parent / f"ready-{index}").touch()
    go = tracking_dir.parent / "go"
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("never released")
        time.sleep(0.001)
    results = []
    if mode == "fresh":
        # One more schema version whose migration is not idempotent (ALTER TABLE ADD COLUMN), as
        # real ones are: run twice, it fails with "duplicate column name".
        from tracker.registry import db
        db.SCHEMA_VERSION += 1
        db.MIGRATIONS[db.SCHEMA_VERSION] = lambda database, s: database.execute_sql(
            "ALTER TABLE model_versions ADD COLUMN extra TEXT")
        registry = Registry(tracking_dir)  # schema creation races with the other workers
        results.append(registry.register_model(src, "m").version)
    else:
        registry = Registry(tracking_dir)
        for _ in range(count):
            results.append(registry.register_model(src, "m").version)
    print(json.dumps(results))
""")


def run_workers(base: Path, n: int, count: int, mode: str) -> list[list[int]]:
    tracking_dir = base / "runs"
    tracking_dir.mkdir(parents=True)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(tracking_dir), str(i), str(count), mode],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(n)]
    deadline = time.monotonic() + 60
    while not all((base / f"ready-{i}").exists() for i in range(n)):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
        time.sleep(0.01)
    (base / "go").touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "locked" not in err, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_8_processes_register_40_versions_each(tmp_path):
    results = run_workers(tmp_path / "many", 8, 40, "register")
    numbers = sorted(v for r in results for v in r)
    assert numbers == list(range(1, 321))  # contiguous, none lost, none twice
    assert all(r == sorted(r) for r in results)  # each worker's own numbers only grow
    registry = Registry(tmp_path / "many" / "runs")
    try:
        versions = registry.list_model_versions("m")
        assert len(versions) == 320
        history = registry.get_model_history("m")
        assert [e.action for e in history].count("register") == 320
        assert [e.action for e in history].count("create_model") == 1
        for v in (versions[0], versions[-1], versions[160]):  # each copy is complete and verified
            assert registry.resolve_models_uri(f"models:/m/{v.version}").read_bytes().startswith(b"worker ")
        assert not list((tmp_path / "many" / "runs" / "registry" / ".tmp").iterdir())
    finally:
        registry.close()


def test_4_processes_open_a_fresh_registry_at_the_same_moment(tmp_path):
    for round_ in range(2):  # twice, to make a lucky interleaving less likely to hide a race
        base = tmp_path / f"fresh{round_}"
        results = run_workers(base, 4, 1, "fresh")
        assert sorted(v for r in results for v in r) == [1, 2, 3, 4]
        with closing(sqlite3.connect(base / "runs" / "registry.db")) as db:
            assert db.execute("SELECT key, value FROM registry_schema").fetchall() == \
                [("version", str(SCHEMA_VERSION + 1))]
            columns = [row[1] for row in db.execute("PRAGMA table_info(model_versions)")]
            assert columns.count("extra") == 1
            actions = [a for (a,) in db.execute("SELECT action FROM model_history")]
            assert sorted(actions) == ["create_model"] + ["register"] * 4


def test_threads_share_one_registry(tmp_path):
    import concurrent.futures
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    registry = Registry.open()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda _: registry.register_model(src, "t").version, range(20)))
    assert sorted(numbers) == list(range(1, 21))
    assert tracker.Client().get_registered_model("t").latest_version == 20

"""Several processes at once, on SQLite and on PostgreSQL: registrations get contiguous numbers, two
processes creating one new model both succeed, concurrent promotions leave one version in
Production, and a fresh registry's schema is created once.

Workers are separate interpreters (subprocess) that inherit the test's ``$TRACKER_REGISTRY_URL``.
Each says "ready" on its stdout once it has imported tracker and opened its source, then blocks
reading its stdin; the test answers all of them only when every one is ready, so they start
together and nothing is timed.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracker
from tracker.registry import Registry
from tracker.registry.db import SCHEMA_VERSION

from registry_backends import registry_backend, use_new_database  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")

WORKER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    tracking_dir, index, count, mode = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    from tracker.registry import db
    from tracker.registry.registry import Registry
    src = tracking_dir.parent / f"src-{index}.bin"
    src.write_bytes(f"worker {index}".encode())
    if mode == "fresh":
        # One more schema version whose migration is not idempotent (ALTER TABLE ADD COLUMN), as
        # real ones are: run twice, it fails ("duplicate column name", "column already exists").
        db.SCHEMA_VERSION += 1
        db.MIGRATIONS[db.SCHEMA_VERSION] = lambda database, s: database.execute_sql(
            "ALTER TABLE model_versions ADD COLUMN extra TEXT")
    else:
        registry = Registry(tracking_dir)
    print("ready", flush=True)
    sys.stdin.readline()  # "go": every worker is ready
    results = []
    if mode == "fresh":
        registry = Registry(tracking_dir)  # schema creation races with the other workers
        results.append(registry.register_model(src, "m").version)
    elif mode == "register":
        for _ in range(count):
            results.append(registry.register_model(src, "m").version)
    elif mode == "new-model":  # everyone registers the first version of a model nobody created
        results.append(registry.register_model(src, "brand-new").version)
    elif mode == "create":  # everyone creates the same model: one does, the others are told it exists
        from tracker.registry import ModelExistsError
        try:
            registry.create_registered_model("taken")
            results.append("created")
        except ModelExistsError:
            results.append("exists")
    elif mode == "promote":  # worker i moves version i+1 to Production, archiving the one there
        for _ in range(count):
            mv = registry.transition_model_version_stage("p", index + 1, "Production",
                                                         archive_existing_versions=True)
            results.append(mv.current_stage)
    print(json.dumps(results))
""")


def run_workers(base: Path, n: int, count: int, mode: str) -> list[list]:
    """Start ``n`` workers, release them together, and return each one's results."""
    tracking_dir = base / "runs"
    tracking_dir.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(tracking_dir), str(i), str(count), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(n)]
    try:
        for p in procs:  # blocks until that worker is ready (or has died: then readline returns "")
            line = p.stdout.readline()
            assert line == "ready\n", (line, p.communicate(timeout=60))
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            assert "locked" not in err, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


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


def test_processes_creating_the_same_new_model_at_once_all_succeed(tmp_path, request, monkeypatch):
    for round_ in range(3):  # a lucky interleaving should not hide a race
        if round_:
            use_new_database(request, monkeypatch)
        base = tmp_path / f"new{round_}"
        (base / "runs").mkdir(parents=True)
        Registry(base / "runs").close()  # the schema exists: the race is on the model only
        results = run_workers(base, 6, 1, "new-model")
        assert sorted(v for r in results for v in r) == [1, 2, 3, 4, 5, 6]  # one created it, the rest added
        registry = Registry(base / "runs")
        try:
            history = [e.action for e in registry.get_model_history("brand-new")]
            assert history.count("create_model") == 1 and history.count("register") == 6
            assert [m.name for m in registry.search_registered_models()] == ["brand-new"]
            assert sorted(p.name for p in (base / "runs" / "registry").iterdir() if p.name != ".tmp") == ["brand-new"]
        finally:
            registry.close()


def test_processes_creating_one_model_at_once_one_creates_the_others_are_told_it_exists(tmp_path):
    base = tmp_path / "create"
    (base / "runs").mkdir(parents=True)
    Registry(base / "runs").close()
    results = run_workers(base, 4, 1, "create")
    assert sorted(r[0] for r in results) == ["created", "exists", "exists", "exists"]
    registry = Registry(base / "runs")
    assert [e.action for e in registry.get_model_history("taken")] == ["create_model"]
    registry.close()


def test_concurrent_promotions_with_archive_leave_one_version_in_production(tmp_path):
    base = tmp_path / "promote"
    (base / "runs").mkdir(parents=True)
    registry = Registry(base / "runs")
    src = tmp_path / "p.bin"
    src.write_bytes(b"p")
    for _ in range(6):
        registry.register_model(src, "p")
    run_workers(base, 6, 10, "promote")
    stages = {v.version: v.current_stage for v in registry.list_model_versions("p")}
    assert list(stages.values()).count("Production") == 1, stages
    assert sorted(stages.values()) == ["Archived"] * 5 + ["Production"]
    # The log replays to the same state, one promotion after the other: each archived the version
    # in Production before it, and no promotion started before the previous one had archived.
    production, promoted = set(), None
    for entry in registry.get_model_history("p"):
        if entry.action == "stage" and entry.to_value == "Production":
            assert len(production) <= 1, production
            production.add(entry.version)
            promoted = entry.version
        elif entry.action == "stage" and entry.from_value == "Production":
            assert entry.comment == f"archived: version {promoted} moved to Production"
            production.discard(entry.version)
    assert production == {v for v, stage in stages.items() if stage == "Production"}
    registry.close()


def test_4_processes_open_a_fresh_registry_at_the_same_moment(tmp_path, request, monkeypatch):
    from tracker.registry.db import open_database
    for round_ in range(2):  # twice, to make a lucky interleaving less likely to hide a race
        if round_:
            use_new_database(request, monkeypatch)
        base = tmp_path / f"fresh{round_}"
        results = run_workers(base, 4, 1, "fresh")
        assert sorted(v for r in results for v in r) == [1, 2, 3, 4]
        db = open_database(base / "runs")  # this test's database, whichever backend
        try:
            assert db.execute_sql("SELECT key, value FROM registry_schema").fetchall() == \
                [("version", str(SCHEMA_VERSION + 1))]
            assert [c.name for c in db.get_columns("model_versions")].count("extra") == 1
            actions = [a for (a,) in db.execute_sql("SELECT action FROM model_history").fetchall()]
            assert sorted(actions) == ["create_model"] + ["register"] * 4
        finally:
            db.close()


def test_threads_share_one_registry(tmp_path):
    import concurrent.futures
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    registry = Registry.open()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda _: registry.register_model(src, "t").version, range(20)))
    assert sorted(numbers) == list(range(1, 21))
    assert tracker.Client().get_registered_model("t").latest_version == 20


def test_4_processes_upgrade_a_registry_that_has_versions_at_the_same_moment(tmp_path):
    base = tmp_path / "upgrade"
    (base / "runs").mkdir(parents=True)
    registry = Registry(base / "runs")
    src = tmp_path / "u.bin"
    src.write_bytes(b"u")
    registry.register_model(src, "m")
    registry.register_model(src, "m", tags={"kept": "yes"})
    registry.close()
    results = run_workers(base, 4, 1, "fresh")  # each brings one more schema version, and registers
    assert sorted(v for r in results for v in r) == [3, 4, 5, 6]
    from tracker.registry.db import open_database
    db = open_database(base / "runs")
    try:
        assert db.execute_sql("SELECT value FROM registry_schema").fetchall() == [(str(SCHEMA_VERSION + 1),)]
        assert [c.name for c in db.get_columns("model_versions")].count("extra") == 1
        assert db.execute_sql("SELECT value FROM model_version_tags").fetchall() == [("yes",)]
        actions = sorted(a for (a,) in db.execute_sql("SELECT action FROM model_history").fetchall())
        assert actions == ["create_model"] + ["register"] * 6
    finally:
        db.close()

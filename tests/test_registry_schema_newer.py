"""A registry upgraded by a newer tracker: this one says so clearly and writes nothing, on SQLite and
PostgreSQL, in every process that opens it (real processes, started together)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tracker.registry.db import SCHEMA_VERSION, open_database
from tracker.registry.registry import Registry

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")

OPENER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import tracker
    from tracker.registry.db import RegistrySchemaError
    tracking_dir, src = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        tracker.Client(tracking_dir).register_model(src, "m")
    except RegistrySchemaError as e:
        print(e)
        sys.exit(3)
""")

TABLES = ("registered_models", "model_versions", "model_history", "model_version_tags", "registered_model_aliases")


def snapshot(db) -> dict[str, list]:
    out = {table: db.execute_sql(f"SELECT * FROM {table} ORDER BY id").fetchall() for table in TABLES}
    out["registry_schema"] = db.execute_sql("SELECT key, value FROM registry_schema").fetchall()
    return out


def test_a_newer_schema_is_refused_with_a_clear_error_and_nothing_written(tmp_path, tracking_dir):
    src = tmp_path / "w.bin"
    src.write_bytes(b"w")
    registry = Registry(tracking_dir)
    registry.register_model(src, "m")
    registry.close()
    db = open_database(tracking_dir)
    try:
        db.execute_sql(f"UPDATE registry_schema SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'version'")
        before = snapshot(db)
    finally:
        db.close()
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, str(tracking_dir), str(src)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 3, (out, err)
        assert f"has schema version {SCHEMA_VERSION + 1}, newer than this tracker's {SCHEMA_VERSION}" in out
        assert "upgrade tracker" in out and "nothing was written" in out
    db = open_database(tracking_dir)
    try:
        assert snapshot(db) == before
    finally:
        db.close()
    assert sorted(p.name for p in (tracking_dir / "registry" / "m").iterdir()) == ["1"]  # no copy placed

"""The registry database: peewee over SQLite (``<tracking dir>/registry.db``) or ``$TRACKER_REGISTRY_URL``.

Rules (see docs/DESIGN.md, "SQLite concurrency" and "peewee migrations"):

* every read-then-write runs in ``write_tx(db)``: ``BEGIN IMMEDIATE`` on SQLite, so concurrent
  writers queue on the busy timeout instead of failing with "database is locked" at commit;
* schema creation and migrations run inside one such transaction (on PostgreSQL, under an advisory
  lock), so several processes opening a fresh registry at once serialize;
* queries are plain peewee expressions (no SQLite-only SQL); pragmas are applied to SQLite only.

On PostgreSQL (``postgresql://...``, a team's shared registry), ``write_tx`` is a plain transaction
and the writes lock what they read: the model's row (``SELECT ... FOR UPDATE``) before changing
anything of that model, and a transaction-scoped advisory lock (``NAMES_LOCK``) before taking a
name (creating or renaming a model). So writers queue on the database's locks, as SQLite's
``BEGIN IMMEDIATE`` makes them, and nothing is retried. Every change also sends
``pg_notify(NOTIFY_CHANNEL, <model name or ''>)`` in its transaction: delivered at commit, and
only if it commits, to whoever LISTENs (the app's live view of a shared registry).

Model classes are built per database (``build_schema``) rather than bound globally, so two
registries (two tracking directories) can be open in one process, from any thread.

A damaged database file is reported as ``RegistryDamagedError`` (``damage_error`` decides what
counts as damage; ``json_column`` decodes the JSON kept in text columns).
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import peewee as pw

from .entities import RegistryDamagedError, RegistryError
from .location import DB_FILE, URL_ENV, is_postgres_url, registry_url

__all__ = ["DB_FILE", "URL_ENV", "NOTIFY_CHANNEL", "SCHEMA_VERSION", "open_database", "write_tx"]

SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 60
NOTIFY_CHANNEL = "tracker_registry"  # LISTEN on it to hear every committed change to a PostgreSQL registry
SCHEMA_LOCK = 7472656  # pg_advisory_xact_lock keys: schema creation and upgrades,
NAMES_LOCK = 7472657  # and taking a model name (create, rename)
_SQLITE_PRAGMAS = (
    ("busy_timeout", BUSY_TIMEOUT_S * 1000),  # before journal_mode: switching to WAL takes a lock
    ("journal_mode", "wal"),
    ("synchronous", "normal"),  # WAL + NORMAL: durable against crashes, not power loss; never corrupt
    ("foreign_keys", 1),
)


class RegistrySchemaError(RuntimeError):
    pass


# What SQLite says when the file itself is bad (not when it is busy, locked or unreachable).
_DAMAGE_WORDS = ("malformed", "not a database", "disk image", "corrupt", "could not decode", "encrypted",
                 "no such table", "no such column", "database schema has changed")
# PostgreSQL's: undefined_table, undefined_column, data_corrupted, index_corrupted.
_PG_DAMAGE_CODES = frozenset({"42P01", "42703", "XX001", "XX002"})


def describe(db: pw.Database) -> str:
    """How messages name the database: the SQLite file, or the PostgreSQL URL without its password."""
    if isinstance(db, pw.PostgresqlDatabase):
        params = db.connect_params
        host = params.get("host") or "localhost"
        port = f":{params['port']}" if params.get("port") else ""
        user = f"{params['user']}@" if params.get("user") else ""
        return f"postgresql://{user}{host}{port}/{db.database}"
    return str(db.database)


def damaged(database: str, detail: str) -> RegistryDamagedError:
    """The one message for a damaged registry database, with what was found wrong."""
    if is_postgres_url(database):
        advice = "Restore the database from a backup"
    else:
        advice = (f"Restore {DB_FILE} from a backup, or move it aside to start an empty registry (the "
                  "registered files under registry/ stay where they are)")
    return RegistryDamagedError(
        f"the registry database {database} is damaged ({detail}). Your runs are not affected. {advice}")


def damage_error(exc: BaseException, database: str) -> RegistryDamagedError | None:
    """The ``RegistryDamagedError`` that ``exc`` means, or None when it is not damage.

    Everything the registry stores is UTF-8 written by this library, so text that does not
    decode (even in SQLite's own messages about the schema) is damage too.
    """
    if isinstance(exc, RegistryDamagedError):
        return None
    if isinstance(exc, UnicodeDecodeError):
        return damaged(database, "text in it is not valid UTF-8")
    if is_postgres_url(database):
        # PostgreSQL says what went wrong in a code: only a table or column gone and corruption the
        # server detected are damage; a dropped connection, a timeout or a refused login are not.
        original = getattr(exc, "orig", exc)
        code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
        if isinstance(exc, pw.DatabaseError) and code in _PG_DAMAGE_CODES:
            return damaged(database, str(exc).splitlines()[0][:200])
        return None
    if isinstance(exc, (pw.DatabaseError, sqlite3.DatabaseError)) and any(
            word in str(exc).lower() for word in _DAMAGE_WORDS):
        return damaged(database, str(exc).splitlines()[0][:200])
    return None



@contextmanager
def reporting_damage(db: pw.Database):
    """Re-raise what a damaged database file causes as ``RegistryDamagedError``; the rest unchanged."""
    try:
        yield
    except Exception as e:
        damage = damage_error(e, describe(db))
        if damage is None:
            raise
        raise damage from e


def json_column(text: Any, expected: type, what: str, database: str) -> Any:
    """Decode a JSON text column written by the registry; RegistryDamagedError if it is not one."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, expected):
        raise damaged(database, f"{what} is not the JSON it wrote")
    return value


def open_database(tracking_dir: Path, url: str | None = None) -> pw.Database:
    """The registry's database: ``url``, else ``set_registry_uri``'s or ``$TRACKER_REGISTRY_URL``, else
    SQLite beside the runs. Nothing connects until the first query."""
    url = url if url is not None else registry_url()
    if url:
        from playhouse.db_url import connect
        if url.split(":", 1)[0].startswith("sqlite"):
            db = connect(url, pragmas=_SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_S)
            if db.database and db.database != ":memory:" and not str(db.database).startswith("file:"):
                Path(db.database).parent.mkdir(parents=True, exist_ok=True)  # as beside the runs
            return db
        if is_postgres_url(url):
            _require_postgres_driver(url)
            return connect(url, **_postgres_defaults(url))
        return connect(url)
    tracking_dir.mkdir(parents=True, exist_ok=True)
    return pw.SqliteDatabase(str(tracking_dir / DB_FILE), pragmas=_SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_S)


def _postgres_defaults(url: str) -> dict[str, Any]:
    """What a PostgreSQL connection gets unless its URL says otherwise: a writer waits for another's
    locks up to ``BUSY_TIMEOUT_S`` (as on SQLite) and then fails with "lock timeout" instead of
    hanging behind a stuck process; an unreachable server fails in 10 s, not at the TCP timeout."""
    from urllib.parse import parse_qs, urlparse
    given = parse_qs(urlparse(url).query)
    defaults: dict[str, Any] = {}
    if "options" not in given:
        defaults["options"] = f"-c lock_timeout={BUSY_TIMEOUT_S * 1000}"
    if "connect_timeout" not in given:
        defaults["connect_timeout"] = 10
    return defaults


def _require_postgres_driver(url: str) -> None:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise RegistryError(
                f"the registry URL {url.split('@')[-1]!r} is a PostgreSQL database, and no PostgreSQL driver "
                "is installed: pip install 'tracker[postgres]' (psycopg2-binary)") from None


def is_sqlite(db: pw.Database) -> bool:
    return isinstance(db, pw.SqliteDatabase)


def is_postgres(db: pw.Database) -> bool:
    return isinstance(db, pw.PostgresqlDatabase)


def write_tx(db: pw.Database):
    """A transaction that takes the write lock up front (``BEGIN IMMEDIATE`` on SQLite); on PostgreSQL a
    plain one, in which the writes lock rows (``locked``) and names (``lock_names``) as they go."""
    return db.atomic("IMMEDIATE") if is_sqlite(db) else db.atomic()


def lock_names(db: pw.Database) -> None:
    """Inside ``write_tx``: wait for any other transaction taking a model name (PostgreSQL; SQLite's
    transaction already excludes every other writer). Released at commit or rollback."""
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (NAMES_LOCK,))


def locked(query: pw.Select) -> pw.Select:
    """``query`` with ``FOR UPDATE`` where the database has it (inside ``write_tx``)."""
    return query.for_update() if is_postgres(query.model._meta.database) else query


def notify(db: pw.Database, model_id: int | None = None, name: str | None = None) -> None:
    """Inside ``write_tx``: tell LISTENers of a PostgreSQL registry which model changed (its name,
    read in the transaction from ``model_id``, or ``name``; '' for the registry as a whole). Sent
    when the transaction commits; PostgreSQL folds repeats of one payload in one transaction."""
    if not is_postgres(db):
        return
    if model_id is not None:
        db.execute_sql("SELECT pg_notify(%s, (SELECT name FROM registered_models WHERE id = %s))",
                       (NOTIFY_CHANNEL, model_id))
    else:
        db.execute_sql("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, name or ""))


def insert(table: type[pw.Model], /, **values) -> int:
    """``table.insert(**values).execute()`` with the SQL generated once per model and set of columns.

    Registering runs four inserts per version, and peewee spends ~0.3 ms building each one (more
    than SQLite spends executing it). The statement still comes from peewee, so it stays in the
    database's dialect (placeholders, quoting, RETURNING); values must be plain ints/strs/None.
    """
    key = tuple(sorted(values))
    cache = table.__dict__.get("_insert_sql")
    if cache is None:
        cache = table._insert_sql = {}
    compiled = cache.get(key)
    if compiled is None:
        sentinels, marked = {}, {}
        for name in key:  # a placeholder per column, passed through unconverted (pw.Value, no converter)
            sentinels[f"\x00{name}\x00"] = name
            marked[name] = pw.Value(f"\x00{name}\x00", unpack=False)
        sql, params = table.insert(**marked).sql()
        fields = table._meta.fields
        slots = [(sentinels[p], fields[sentinels[p]].db_value) if isinstance(p, str) and p in sentinels
                 else (None, p) for p in params]
        compiled = cache[key] = (sql, slots, "RETURNING" in sql.upper())
    sql, slots, returning = compiled
    # Each value goes through its field's adapter, as peewee's own insert does (a bool for BOOLEAN).
    cursor = table._meta.database.execute_sql(sql, [c(values[n]) if n is not None else c for n, c in slots])
    return cursor.fetchone()[0] if returning else cursor.lastrowid


def build_schema(db: pw.Database) -> SimpleNamespace:
    """The peewee model classes, bound to ``db``."""
    # Names sort by their bytes, as SQLite's BINARY collation sorts them, whatever locale the
    # PostgreSQL database was created with (en_US would sort "b" before "C").
    binary = '"C"' if is_postgres(db) else None

    class Base(pw.Model):
        class Meta:
            database = db

    class Schema(Base):
        key = pw.CharField(max_length=64, primary_key=True)
        value = pw.TextField()

        class Meta:
            table_name = "registry_schema"

    class Model(Base):
        name = pw.CharField(max_length=255, unique=True, collation=binary)
        storage_dir = pw.CharField(max_length=255, unique=True)  # registry/<storage_dir>/<version>/
        description = pw.TextField(default="")
        creation_timestamp = pw.BigIntegerField()
        last_updated_timestamp = pw.BigIntegerField()
        deleted = pw.BooleanField(default=False)

        class Meta:
            table_name = "registered_models"

    class Version(Base):
        model = pw.ForeignKeyField(Model, backref="versions", on_delete="CASCADE")
        version = pw.IntegerField()
        current_stage = pw.CharField(max_length=16, default="None")
        description = pw.TextField(default="")
        source = pw.TextField()
        run_id = pw.CharField(max_length=32, null=True, index=True)
        experiment = pw.TextField(null=True)
        run_link = pw.CharField(max_length=16, null=True)
        storage = pw.TextField()  # the version directory, relative to the tracking dir (posix)
        entry = pw.TextField(default="")  # the file's name when a single file was registered
        files = pw.TextField()  # JSON {relative path: sha256}, relative to the version directory
        user = pw.CharField(max_length=255, default="")
        creation_timestamp = pw.BigIntegerField()
        last_updated_timestamp = pw.BigIntegerField()
        deleted = pw.BooleanField(default=False)

        class Meta:
            table_name = "model_versions"
            indexes = ((("model", "version"), True),)  # UNIQUE: the backstop for version numbers

    class ModelTag(Base):
        model = pw.ForeignKeyField(Model, on_delete="CASCADE")
        key = pw.CharField(max_length=250)
        value = pw.TextField()

        class Meta:
            table_name = "registered_model_tags"
            indexes = ((("model", "key"), True),)

    class VersionTag(Base):
        version = pw.ForeignKeyField(Version, on_delete="CASCADE")
        key = pw.CharField(max_length=250)
        value = pw.TextField()

        class Meta:
            table_name = "model_version_tags"
            indexes = ((("version", "key"), True),)

    class Alias(Base):
        model = pw.ForeignKeyField(Model, on_delete="CASCADE")
        alias = pw.CharField(max_length=255, collation=binary)
        version = pw.IntegerField()

        class Meta:
            table_name = "registered_model_aliases"
            indexes = ((("model", "alias"), True),)

    class History(Base):
        model = pw.ForeignKeyField(Model, on_delete="CASCADE")
        version = pw.IntegerField(null=True)
        action = pw.CharField(max_length=32)
        key = pw.TextField(null=True)
        from_value = pw.TextField(null=True)
        to_value = pw.TextField(null=True)
        user = pw.CharField(max_length=255, default="")
        timestamp = pw.BigIntegerField()
        comment = pw.TextField(null=True)

        class Meta:
            table_name = "model_history"
            indexes = ((("model", "version"), False),)

    class Lineage(Base):
        version = pw.ForeignKeyField(Version, unique=True, on_delete="CASCADE")
        data = pw.TextField()  # JSON snapshot; kept out of model_versions so listing never reads it

        class Meta:
            table_name = "model_version_lineage"

    class Trust(Base):
        """What the person registering a version trusted; ``load_model`` of it honours only this."""
        version = pw.ForeignKeyField(Version, unique=True, on_delete="CASCADE")
        types = pw.TextField(default="[]")  # JSON list of skops type names
        pickle = pw.BooleanField(default=False)

        class Meta:
            table_name = "model_version_trust"

    tables = [Model, Version, ModelTag, VersionTag, Alias, History, Lineage, Trust]
    return SimpleNamespace(Schema=Schema, Model=Model, Version=Version, ModelTag=ModelTag,
                           VersionTag=VersionTag, Alias=Alias, History=History, Lineage=Lineage,
                           Trust=Trust, tables=tables)


def _stored_version(s: SimpleNamespace) -> int:
    row = s.Schema.get_or_none(s.Schema.key == "version")
    if row is None:
        return 0
    if not str(row.value).isdigit():
        raise damaged(describe(s.Schema._meta.database), f"its schema version {row.value!r} is not a number")
    return int(row.value)


def _migrate_to_1(db: pw.Database, s: SimpleNamespace) -> None:
    db.create_tables([t for t in s.tables if t is not s.Trust], safe=True)


def _migrate_to_2(db: pw.Database, s: SimpleNamespace) -> None:
    db.create_tables([s.Trust], safe=True)  # versions registered before it trusted nothing


# Each step runs inside the schema transaction; later ones would use playhouse.migrate.
MIGRATIONS = {1: _migrate_to_1, 2: _migrate_to_2}


def ensure_schema(db: pw.Database, s: SimpleNamespace) -> None:
    """Create or migrate the schema, once, whatever number of processes try at the same moment."""
    try:
        current = _stored_version(s)
    except (pw.OperationalError, pw.ProgrammingError):  # no schema table yet
        current = 0
    if current == SCHEMA_VERSION:
        return
    _refuse_newer(db, current)  # before any lock or write
    with write_tx(db):
        if is_postgres(db):  # DDL is not serialized otherwise
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        db.create_tables([s.Schema], safe=True)
        current = _stored_version(s)  # again, under the lock: another process may have done it
        _refuse_newer(db, current)
        for target in range(current + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](db, s)
        if current != SCHEMA_VERSION:
            _set_version(s)
            notify(db)


def _refuse_newer(db: pw.Database, current: int) -> None:
    if current > SCHEMA_VERSION:
        raise RegistrySchemaError(
            f"the registry database {describe(db)} has schema version {current}, newer than this tracker's "
            f"{SCHEMA_VERSION} (a newer tracker upgraded it): upgrade tracker on this machine "
            "(pip install -U tracker); nothing was written")


def _set_version(s: SimpleNamespace) -> None:
    updated = s.Schema.update(value=str(SCHEMA_VERSION)).where(s.Schema.key == "version").execute()
    if not updated:
        s.Schema.insert(key="version", value=str(SCHEMA_VERSION)).execute()

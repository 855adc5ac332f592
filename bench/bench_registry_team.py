"""The registry on PostgreSQL against SQLite, side by side in one run: 1,000 registrations,
``search_registered_models``, and concurrent writers' registrations per second.

    .venv/bin/python bench/bench_registry_team.py
    .venv/bin/python bench/bench_registry_team.py --writers 8 --per-writer 40 --repeat 9
    .venv/bin/python bench/bench_registry_team.py --postgres-url postgresql://user@db-host/postgres

PostgreSQL is a throwaway server started from the machine's binaries (the tests' harness,
``tests/postgres_server.py``) on localhost, then restarted with PostgreSQL's durable defaults
(``fsync``, ``synchronous_commit`` on) as a team's server runs; the tests' server turns them off.
It is measured twice: as configured, and with ``synchronous_commit=off`` for the bench's connections
(a commit does not wait for its WAL flush), which is what SQLite's ``synchronous=NORMAL`` in WAL
mode does. ``--postgres-url`` measures a server you run instead (a database is created for each
phase through that URL and dropped afterwards): over a network each statement adds a round trip.

(a) 200 models (created first, with a team tag) x 5 versions: 1,000 ``register_model`` calls of a
2 KiB file from one process, in a runs directory without runs. (b) ``search_registered_models``
over those 200 models / 1,000 versions, without and with filters: the median of ``--repeat`` calls
after one warm-up. (c) ``--writers`` processes, released together, each registering ``--per-writer``
versions spread over ``--shared-models`` models; registrations per second from the first start to
the last finish, then every model's versions are checked to be 1..n, each once. The whole is
run ``--rounds`` times, the backends' order alternating, and each figure's best round is shown.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # postgres_server: the tests' harness

import tracker
from bench.machine import describe_machine

REPO = Path(__file__).resolve().parents[1]

FAMILIES = ("resnet", "bert", "xgb", "unet")
TEAMS = ("vision", "nlp", "tabular", "vision")
SEARCHES = (("no filter", None),
            ("name LIKE 'resnet-%'", "name LIKE 'resnet-%'"),
            ("tags.team = 'vision'", "tags.team = 'vision'"),
            ("name = 'bert-001'", "name = 'bert-001'"))

WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from tracker.registry.registry import Registry
    runs, url, index, count, models = Path(sys.argv[1]), sys.argv[2] or None, *map(int, sys.argv[3:6])
    src = runs.parent / f"src-{index}.bin"
    src.write_bytes(f"writer {index} ".encode() * 200)
    registry = Registry(runs, url)
    registry.search_registered_models()  # connected, schema checked
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()
    got = [(f"shared-{(index + i) % models}", registry.register_model(src, f"shared-{(index + i) % models}").version)
           for i in range(count)]
    print(json.dumps({"start": start, "end": time.time(), "versions": got}))
""")


class Backend:
    """Where one backend's registries go: SQLite beside each runs folder, or a new PostgreSQL database each."""

    def __init__(self, label: str, admin_url: str | None = None, options: str = "") -> None:
        self.label, self.admin_url, self.options, self.created = label, admin_url, options, []

    def new_url(self) -> str | None:
        if self.admin_url is None:
            return None
        name = "bench_" + uuid.uuid4().hex[:12]
        admin_sql(self.admin_url, f"CREATE DATABASE {name}")
        self.created.append(name)
        parts = urlparse(self.admin_url)
        query = "&".join(q for q in (parts.query, f"options={self.options}" if self.options else "") if q)
        return urlunparse(parts._replace(path="/" + name, query=query))

    def drop(self) -> None:
        for name in self.created:
            admin_sql(self.admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def admin_sql(url: str, statement: str) -> None:
    import psycopg2
    conn = psycopg2.connect(url)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def median_ms(fn, repeat: int) -> tuple[float, object]:
    result = fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def registrations_and_search(backend: Backend, base: Path, args) -> dict:
    runs = base / "runs"
    runs.mkdir(parents=True)
    src = base / "model.bin"
    src.write_bytes(b"0123456789abcdef" * 128)
    client = tracker.Client(runs, registry_uri=backend.new_url() or str(runs))
    names = [f"{FAMILIES[i % 4]}-{i // 4:03d}" for i in range(args.models)]
    for i, name in enumerate(names):
        client.create_registered_model(name, tags={"team": TEAMS[i % 4]})
    start = time.perf_counter()
    for _ in range(args.versions):
        for name in names:
            client.register_model(src, name, tags={"data": "v2"})
    total_s = time.perf_counter() - start
    count = args.models * args.versions
    for name in names[::10]:  # a few in Production, so the latest-per-stage columns are not all empty
        client.transition_model_version_stage(name, args.versions, "Production")
    out = {"register_s": total_s, "register_ms": total_s * 1000 / count, "count": count, "search": []}
    for label, filter_string in SEARCHES:
        ms, found = median_ms(lambda: client.search_registered_models(filter_string), args.repeat)
        out["search"].append((label, ms, len(found)))
    client.registry.close()
    return out


def concurrent_writers(backend: Backend, base: Path, args) -> dict:
    runs = base / "runs"
    runs.mkdir(parents=True)
    url = backend.new_url() or ""
    tracker.Client(runs, registry_uri=url or str(runs)).registry.close()  # the schema, before the race
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(runs), url, str(i), str(args.per_writer),
                               str(args.shared_models)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(args.writers)]
    try:
        for p in procs:
            line = p.stdout.readline()
            if line != "ready\n":
                raise RuntimeError(f"a writer failed to start: {p.communicate(timeout=60)[1]}")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            if p.returncode:
                raise RuntimeError(f"a writer failed ({p.returncode}): {err.strip().splitlines()[-1:]}")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    total = sum(len(r["versions"]) for r in results)
    per_model: dict[str, list[int]] = {}
    for r in results:
        for name, version in r["versions"]:
            per_model.setdefault(name, []).append(version)
    registry = tracker.Client(runs, registry_uri=url or str(runs)).registry
    try:
        stored = {name: sorted(int(v.version) for v in registry.list_model_versions(name)) for name in per_model}
    finally:
        registry.close()
    ok = all(sorted(given) == list(range(1, len(given) + 1)) == stored[name] for name, given in per_model.items())
    return {"rate": total / wall, "wall": wall, "total": total, "ok": ok}


def best(found: list[dict]) -> dict:
    """Each figure's best round (the machine's other work only slows a round); checked in every round."""
    out = dict(min(found, key=lambda r: r["register_s"]))
    out["search"] = [min((r["search"][i] for r in found), key=lambda s: s[1]) for i in range(len(SEARCHES))]
    fastest = max(found, key=lambda r: r["rate"])
    out.update(rate=fastest["rate"], wall=fastest["wall"], ok=all(r["ok"] for r in found))
    return out


def start_server():
    from postgres_server import PostgresServer, binaries
    bin_dir = binaries()
    if bin_dir is None:  # said, not failed: `make bench` runs every bench, and `make test` installs them
        print("skipped: no PostgreSQL server binaries (initdb, pg_ctl); install Debian's postgresql "
              "(`make test` does), or pass --postgres-url")
        sys.exit(0)
    server = PostgresServer(bin_dir)
    try:
        server.start()
        # The harness starts its server without fsync for the tests' speed; a team's server has it.
        server._run("pg_ctl", "-D", str(server.data), "-o",
                    f"-p {server.port} -k {server.home} -c listen_addresses=127.0.0.1 -c max_connections=200",
                    "-l", str(server.home / "log"), "-w", "restart")
    except BaseException:
        server.stop()
        raise
    return server


def server_version(url: str) -> str:
    import psycopg2
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            cursor.execute("SHOW fsync")
            fsync = cursor.fetchone()[0]
            cursor.execute("SHOW synchronous_commit")
            return f"PostgreSQL {version.split()[0]} (fsync {fsync}, synchronous_commit {cursor.fetchone()[0]})"
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=5, help="versions per model: models x versions registrations")
    parser.add_argument("--repeat", type=int, default=9, help="search calls timed (median) after one warm-up")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=40)
    parser.add_argument("--shared-models", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="rounds (backends in alternating order); best shown")
    parser.add_argument("--postgres-url", help="a server of yours (a user allowed to CREATE DATABASE) "
                        "instead of a throwaway one")
    args = parser.parse_args()
    server = None if args.postgres_url else start_server()
    admin = args.postgres_url or server.url()
    lock = "-c lock_timeout=60000"  # the registry's own default, kept when options are given
    backends = [Backend("SQLite"),
                Backend("PostgreSQL", admin, lock.replace(" ", "%20")),
                Backend("PostgreSQL async", admin,
                        f"{lock} -c synchronous_commit=off".replace(" ", "%20").replace("=", "%3D"))]
    rounds: dict[str, list[dict]] = {backend.label: [] for backend in backends}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-registry-team-") as tmp:
            for r in range(args.rounds):
                for n, backend in enumerate(backends if r % 2 == 0 else backends[::-1]):
                    try:
                        one = registrations_and_search(backend, Path(tmp) / f"a{r}-{n}", args)
                        one.update(concurrent_writers(backend, Path(tmp) / f"c{r}-{n}", args))
                        rounds[backend.label].append(one)
                    finally:
                        backend.drop()
        version = server_version(admin)
    finally:
        if server is not None:
            server.stop()
    results = {label: best(found) for label, found in rounds.items()}
    print(f"machine: {describe_machine()}; best of {args.rounds} round(s), backends in alternating order")
    print(f"{version}{' on localhost, throwaway' if server else ''}; 'PostgreSQL async': the bench's connections "
          "set synchronous_commit=off; SQLite: WAL, synchronous=NORMAL")
    count = next(iter(results.values()))["count"]
    print(f"\n(a) {count} registrations ({args.models} models x {args.versions} versions, 2 KiB file, one process)")
    print(f"{'backend':<18} {'total s':>8} {'ms each':>8}")
    for label, r in results.items():
        print(f"{label:<18} {r['register_s']:>8.2f} {r['register_ms']:>8.2f}")
    print(f"\n(b) search_registered_models over {args.models} models / {count} versions, "
          f"ms per call (median of {args.repeat})")
    print(f"{'filter':<26} {'found':>5} " + " ".join(f"{label:>18}" for label in results))
    for i, (label, _) in enumerate(SEARCHES):
        found = next(iter(results.values()))["search"][i][2]
        print(f"{label:<26} {found:>5} " + " ".join(f"{r['search'][i][1]:>18.2f}" for r in results.values()))
    print(f"\n(c) {args.writers} writer processes x {args.per_writer} registrations over "
          f"{args.shared_models} shared models")
    print(f"{'backend':<18} {'reg/s':>8} {'wall s':>8} {'versions 1..n, each once':>26}")
    ok = True
    for label, r in results.items():
        ok &= r["ok"]
        print(f"{label:<18} {r['rate']:>8.1f} {r['wall']:>8.2f} "
              f"{(str(r['total']) + ' ' + ('yes' if r['ok'] else 'NO')):>26}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

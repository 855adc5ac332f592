"""``tracker models ...``: the model registry from the command line.

    tracker models ls                                   tracker models history NAME [--version N]
    tracker models show NAME                            tracker models lineage NAME VERSION
    tracker models register SOURCE NAME [--tag k=v] [--description TEXT] [--trust TYPE] [--trust-pickle]
    tracker models stage NAME VERSION STAGE [--archive-existing] [--comment TEXT]
    tracker models alias NAME ALIAS VERSION             tracker models alias NAME ALIAS --delete
    tracker models serve MODEL_URI [--host 127.0.0.1] [--port 5001] [--workers N] [--trust TYPE] [--trust-code]
    tracker models migrate --to postgresql://user@host/db [--from URL|FOLDER] [--to-dir RUNS] [--merge]

``tracker.cli`` calls ``add_models_parser(subparsers)``; the parsed arguments go to
``run_models_command(args)``, which returns the exit status (0, or 2 after printing an error).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import datetime

from .client import Client
from .model_trust import Trust
from .integrity import ModelIntegrityError
from .registry import RegistryError


def add_models_parser(subparsers) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=None, help="runs directory (default: $TRACKER_DIR or ./runs)")
    common.add_argument("--json", action="store_true", help="print as JSON")
    models = subparsers.add_parser("models", help="model registry: versions, stages, aliases, lineage")
    sub = models.add_subparsers(dest="models_command", required=True, metavar="COMMAND")
    ls = sub.add_parser("ls", parents=[common], help="list registered models")
    ls.add_argument("--all", action="store_true", help="include deleted models")
    show = sub.add_parser("show", parents=[common], help="a model and its versions")
    show.add_argument("name")
    show.add_argument("--all", action="store_true", help="include deleted versions")
    reg = sub.add_parser("register", parents=[common], help="register a file, directory or runs:/ URI")
    reg.add_argument("source", help="runs:/<run_id>/<path>, models:/..., or a file or directory")
    reg.add_argument("name")
    reg.add_argument("--description", default=None)
    reg.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="repeatable")
    reg.add_argument("--trust", action="append", default=[], metavar="TYPE",
                     help="a skops type you reviewed and trust in this model file, e.g. sklearn.tree._tree.Tree "
                          "(repeatable); load_model of this version will accept it")
    reg.add_argument("--trust-pickle", action="store_true",
                     help="allow load_model to unpickle this version (it runs code from the file)")
    stage = sub.add_parser("stage", parents=[common], help="move a version to a stage")
    stage.add_argument("name")
    stage.add_argument("version")
    stage.add_argument("stage", help="None, Staging, Production or Archived (any case)")
    stage.add_argument("--archive-existing", action="store_true",
                       help="move the versions already in that stage to Archived")
    stage.add_argument("--comment", default=None)
    alias = sub.add_parser("alias", parents=[common], help="point an alias at a version (or --delete it)")
    alias.add_argument("name")
    alias.add_argument("alias")
    alias.add_argument("version", nargs="?")
    alias.add_argument("--delete", action="store_true")
    hist = sub.add_parser("history", parents=[common], help="the audit log of a model")
    hist.add_argument("name")
    hist.add_argument("--version", default=None)
    lin = sub.add_parser("lineage", parents=[common], help="run, params, metrics and git commit of a version")
    lin.add_argument("name")
    lin.add_argument("version")
    _add_serve_parser(sub, common)
    _add_migrate_parser(sub, common)
    models.set_defaults(func=run_models_command)
    return models


def _add_serve_parser(sub, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common],
                           help="serve a model over HTTP with MLflow's scoring protocol (the serve extra)",
                           description="Serve any URI load_model accepts. Started on a stage, an alias or "
                                       "latest, the server follows it: a new version is loaded and verified "
                                       "beside the old one, then swapped in. --json prints one JSON line "
                                       "(url, pid, version) once the server listens.")
    serve.add_argument("model_uri", help="models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME@ALIAS, "
                                         "models:/NAME/latest, runs:/RUN_ID/PATH or a path")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=5001, help="port (default: 5001; 0: a free one)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes, each with the model (default: 1)")
    serve.add_argument("--trust", action="append", default=[], metavar="TYPE",
                       help="a skops type you trust in the model file, as load_model(trusted=...) (repeatable)")
    serve.add_argument("--trust-code", action="store_true",
                       help="let a pickle or a custom model's code run, as load_model(trust_code=True)")
    serve.add_argument("--max-body-mb", type=float, default=32.0,
                       help="largest request body accepted, in MiB (default: 32)")
    serve.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)


def _add_migrate_parser(sub, common: argparse.ArgumentParser) -> None:
    mig = sub.add_parser(
        "migrate", parents=[common], help="copy a registry, with its history and files, into another (a team's)",
        description="Copy every model of a registry into another: versions (deleted ones too), stages, "
                    "descriptions, tags, aliases, the whole history with its users and times, lineage and "
                    "trust records, and the registered files, each checked against its sha256 on the way. "
                    "Files go beside the target's runs folder (registry/, under --to-dir) or into "
                    "$TRACKER_REGISTRY_ARTIFACTS when it is set; files already where the target keeps them "
                    "are pointed at, not copied. All rows are written in one transaction: on failure the "
                    "target is left as it was.")
    mig.add_argument("--to", required=True, metavar="URL",
                     help="the target registry: postgresql://user@host/db, sqlite:///path/registry.db or a runs folder")
    mig.add_argument("--from", dest="source", default=None, metavar="URL|FOLDER",
                     help="the registry to copy: a database URL or a runs folder (default: registry.db beside --dir)")
    mig.add_argument("--to-dir", default=None, metavar="RUNS",
                     help="the target's runs folder, which every machine mounts (default: --dir)")
    mig.add_argument("--merge", action="store_true",
                     help="when the target already has a model of the same name, append the copied versions "
                          "after its own (v1, v2 become v4, v5 after a v3), with their stages, tags, lineage and "
                          "history (renumbered); the target keeps its aliases, description and tags and gets "
                          "those it lacks. Without --merge such a name refuses the whole migration")


def run_models_command(args: argparse.Namespace) -> int:
    handler = _COMMANDS[args.models_command]
    try:
        return handler(Client(args.dir), args) or 0
    except (ValueError, LookupError, OSError, ModelIntegrityError, RegistryError) as e:
        print(f"tracker: error: {e}", file=sys.stderr)
        return 2


# ------------------------------------------------------------------------------- formatting

def _time(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S") if ms else "-"


def _table(header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


def _json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _trust(mv) -> str:
    """What the person who registered the version trusted: "pickle", "2 types", or "-"."""
    parts = ["pickle"] if mv.trust_pickle else []
    if mv.trusted_types:
        parts.append(mv.trusted_types[0] if len(mv.trusted_types) == 1 else f"{len(mv.trusted_types)} types")
    return ", ".join(parts) or "-"


def _run(mv) -> str:
    return mv.run_id[:8] if mv.run_id else "-"


def _aliases(model) -> str:
    """"champion->v2,old->v1(archived)": an alias left on an archived version is flagged."""
    stale = model.archived_aliases()
    return ",".join(f"{a}->v{v}" + ("(archived)" if a in stale else "") for a, v in model.aliases.items()) or "-"


def _alias_warnings(model) -> list[str]:
    return [f"warning: alias {a!r} points to an archived version (v{v}); models:/{model.name}@{a} still loads it"
            for a, v in model.archived_aliases().items()]


# ---------------------------------------------------------------------------------- commands

def _ls(client: Client, args) -> int:
    models = client.search_registered_models(include_deleted=args.all)
    if args.json:
        _json([{**asdict(m), "archived_aliases": m.archived_aliases()} for m in models])
        return 0
    rows = [[m.name + (" (deleted)" if m.deleted else ""), m.latest_version or "-",
             ",".join(map(str, m.versions_in("Staging"))) or "-",
             ",".join(map(str, m.versions_in("Production"))) or "-",
             _aliases(m), _time(m.last_updated_timestamp)]
            for m in models]
    _table(["NAME", "LATEST", "STAGING", "PRODUCTION", "ALIASES", "UPDATED"], rows)
    print(f"{len(models)} model(s) in {client.tracking_dir}", file=sys.stderr)
    for m in models:
        for line in _alias_warnings(m):
            print(f"{m.name}: {line}", file=sys.stderr)
    return 0


def _show(client: Client, args) -> int:
    model = client.get_registered_model(args.name)
    versions = client.list_model_versions(args.name, include_deleted=args.all)
    if args.json:
        _json({**asdict(model), "archived_aliases": model.archived_aliases(),
               "versions": [asdict(v) for v in versions]})
        return 0
    print(f"Model {model.name!r}  ({model.version_count} version(s), latest v{model.latest_version or '-'})")
    if model.description:
        print(f"  description  {model.description}")
    for key, value in sorted(model.tags.items()):
        print(f"  tag          {key} = {value}")
    print(f"  created      {_time(model.creation_timestamp)}   updated {_time(model.last_updated_timestamp)}")
    stale = model.archived_aliases()
    rows = [[v.version, v.current_stage + (" (deleted)" if v.deleted else ""),
             ",".join(a + ("(archived)" if a in stale else "") for a in v.aliases) or "-",
             _run(v), _time(v.creation_timestamp), v.user, _trust(v), v.source] for v in versions]
    if rows:
        _table(["VERSION", "STAGE", "ALIASES", "RUN", "CREATED", "USER", "TRUSTED", "SOURCE"], rows)
    for line in _alias_warnings(model):
        print(line)
    return 0


def _register(client: Client, args) -> int:
    tags = {}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--tag {item!r}: use KEY=VALUE")
        tags[key] = value
    mv = client.register_model(args.source, args.name, tags=tags or None, description=args.description,
                               trusted=args.trust or None, trust_pickle=args.trust_pickle)
    if args.json:
        _json(asdict(mv))
        return 0
    run = {"run": f"run {mv.run_id}", "sha256": f"run {mv.run_id} (found by content)",
           "manifest": f"run {mv.run_id} (named by the model's manifest)",
           "model": f"run {mv.run_id} (through the source version)"}.get(mv.run_link or "", "no known run")
    print(f"Registered {mv.name!r} version {mv.version} from {mv.source} ({run})")
    print(f"  stored at {mv.storage_path}")
    if mv.trust_pickle or mv.trusted_types:
        print(f"  trusted      {Trust(tuple(mv.trusted_types), mv.trust_pickle).describe()}")
    return 0


def _stage(client: Client, args) -> int:
    before = {v.version: v.current_stage for v in client.list_model_versions(args.name)}
    mv = client.transition_model_version_stage(args.name, args.version, args.stage,
                                               archive_existing_versions=args.archive_existing,
                                               comment=args.comment)
    archived = [v.version for v in client.list_model_versions(args.name)
                if v.version != mv.version and v.current_stage != before.get(v.version)]
    if args.json:
        _json({**asdict(mv), "archived_versions": archived})
        return 0
    print(f"{mv.name} v{mv.version}: {before.get(mv.version)} -> {mv.current_stage}"
          + (f" (archived v{', v'.join(map(str, archived))})" if archived else ""))
    return 0


def _alias(client: Client, args) -> int:
    if args.delete:
        client.delete_registered_model_alias(args.name, args.alias)
        print(f"{args.name}@{args.alias} deleted")
        return 0
    if args.version is None:
        raise ValueError("give the VERSION the alias should point at (or --delete)")
    client.set_registered_model_alias(args.name, args.alias, args.version)
    mv = client.get_model_version_by_alias(args.name, args.alias)
    print(json.dumps(asdict(mv), indent=2, default=str) if args.json else f"{args.name}@{args.alias} -> v{mv.version}")
    return 0


def _history(client: Client, args) -> int:
    entries = client.get_model_history(args.name, args.version)
    if args.json:
        _json([asdict(e) for e in entries])
        return 0
    rows = [[_time(e.timestamp), e.version if e.version is not None else "-",
             e.action + (f" {e.key}" if e.key else ""), e.from_value if e.from_value is not None else "-",
             e.to_value if e.to_value is not None else "-", e.user, e.comment or ""] for e in entries]
    _table(["TIME", "VERSION", "ACTION", "FROM", "TO", "USER", "COMMENT"], rows)
    return 0


def _signature_lines(client: Client, name: str, version: int) -> list[str]:
    """The version's signature, read from its stored manifest (a description: nothing is loaded)."""
    from pathlib import Path

    from .models import MANIFEST, Model, read_manifest
    path = Path(client.get_model_version(name, version).storage_path)
    try:
        signature = Model(read_manifest(path)).signature if (path / MANIFEST).is_file() else None
    except (OSError, ValueError):
        return []
    parts = ("inputs", "outputs", "params")
    return [f"  {part:<12} {getattr(signature, part)!r}" for part in parts
            if signature is not None and getattr(signature, part) is not None]


def _lineage(client: Client, args) -> int:
    lin = client.get_model_lineage(args.name, args.version)
    if args.json:
        _json(lin.to_dict())
        return 0
    print(f"{lin.name} v{lin.version}  from {lin.source}")
    if lin.run_id:
        how = {"sha256": "found by content", "manifest": "named by the model's manifest",
               "model": "through the source version"}.get(lin.run_link or "", "")
        state = "" if lin.run_exists else "  [run deleted; snapshot below]"
        print(f"  run          {lin.run_id} {lin.run_name or ''} {f'({how})' if how else ''}{state}".rstrip())
        print(f"  experiment   {lin.experiment or '-'}   status {lin.run_status or '-'}   "
              f"started {_time(lin.run_start_time)}")
        if lin.run_artifact_path:
            print(f"  artifact     {lin.run_artifact_path}")
    else:
        print("  run          no known run")
    if lin.git_commit:
        dirty = {True: " (dirty", False: "", None: ""}[lin.git_dirty]
        dirty += f"; diff at {lin.git_diff_artifact})" if lin.git_dirty and lin.git_diff_artifact else \
            (")" if lin.git_dirty else "")
        print(f"  git          {lin.git_commit} {lin.git_branch or '(detached)'}{dirty}")
        if lin.git_repo_url:
            print(f"  repository   {lin.git_repo_url}")
        if lin.git_commit_details:
            d = lin.git_commit_details
            subject = (d.get("message", "").splitlines() or [""])[0]
            print(f"  commit       {d.get('author', '')}, {d.get('date', '')}: {subject}")
    if lin.source_name:
        print(f"  script       {lin.source_name}")
    if lin.source_argv:
        print(f"  argv         {' '.join(lin.source_argv)}")
    for line in _signature_lines(client, lin.name, lin.version):
        print(line)
    for title, items in (("Params", lin.params), ("Metrics", lin.metrics)):
        if items:
            print(title)
            for key, value in sorted(items.items()):
                print(f"  {key} = {value}")
    print("Files (sha256)")
    for rel, digest in sorted(lin.files.items()):
        print(f"  {digest}  {rel}")
    if lin.other_runs:
        print(f"Also in the artifacts of: {', '.join(lin.other_runs)}")
    return 0


def _serve(client: Client, args) -> int:
    from .serving import ServeExtraMissing, ServeOptions, serve
    if args.workers < 1 or not 0 <= args.port <= 65535 or args.max_body_mb <= 0:
        raise ValueError("--workers must be 1 or more, --port 0 to 65535, --max-body-mb above 0")
    options = ServeOptions(args.model_uri, client.tracking_dir, args.host, args.port, args.workers,
                           Trust.of(args.trust or None, args.trust_code), int(args.max_body_mb * 2**20),
                           json_ready=args.json, parent_pid=args.parent_pid)
    try:
        return serve(options)
    except ServeExtraMissing as e:
        print(f"tracker: {e}", file=sys.stderr)  # names the extra to install
        return 1


def _migrate(client: Client, args) -> int:
    from pathlib import Path

    from .registry.db import describe
    from .registry.location import database_url
    from .registry.migrate import describe_result, migrate, source_registry
    from .registry.registry import Registry
    source = source_registry(client.tracking_dir, args.source)
    try:
        target = Registry(Path(args.to_dir).expanduser().absolute() if args.to_dir else client.tracking_dir,
                          url=database_url(args.to))
        try:
            result = migrate(source, target, merge=args.merge)
            where = describe(target.db)
        finally:
            target.close()
    finally:
        source.close()
    if args.json:
        _json(asdict(result))
        return 0
    print(f"Migrated {describe(source.db)} into {where}")
    for line in describe_result(result):
        print(f"  {line}")
    return 0


_COMMANDS = {"ls": _ls, "show": _show, "register": _register, "stage": _stage, "alias": _alias,
             "history": _history, "lineage": _lineage, "serve": _serve, "migrate": _migrate}

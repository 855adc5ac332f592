"""``tracker``: list and show runs, write demo runs, clean what killed writers left, open the desktop app."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from .client import Client, RunNotFoundError
from .config import get_tracking_dir


def printable(text: object) -> str:
    """``text`` with every character a terminal would act on escaped as Python writes it
    (``\\x1b``, ``\\n``, ``\\u202e``...): a run's name cannot move the cursor, recolour the
    terminal or reorder what follows it."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _fmt_time(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S") if ms else "-"


def _fmt_value(value: float) -> str:
    return f"{value:.6g}"


def cmd_ls(args: argparse.Namespace) -> int:
    from .entities import ViewType
    client = Client(args.dir)
    order = [args.sort] if args.sort else None
    deleted = getattr(args, "deleted", False)
    runs = client.search_runs(args.experiment, args.filter or "", order_by=order,
                              run_view_type=ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY)
    metric_keys = sorted({k for r in runs for k in r.data.metrics})[:4]
    header = ["RUN ID", "NAME", "EXPERIMENT", "STATUS", "STARTED", *(["DELETED"] if deleted else []),
              *map(printable, metric_keys)]
    rows = [
        [r.info.run_id[:8], printable(r.info.run_name), printable(r.info.experiment), r.info.status,
         _fmt_time(r.info.start_time), *([_fmt_time(client.deleted_time(r.info.run_id))] if deleted else []),
         *(_fmt_value(r.data.metrics[k]) if k in r.data.metrics else "-" for k in metric_keys)]
        for r in runs
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    bad = client.unreadable_runs()
    for u in bad:
        print(f"warning: run {u.run_id} is unreadable: {printable(u.reason)}", file=sys.stderr)
    print(f"{len(runs)} {'deleted ' if deleted else ''}run(s) in {printable(client.tracking_dir)}", file=sys.stderr)
    return 0


def _find_run(client: Client, run_id: str):
    if len(run_id) < 32:  # accept the short id `tracker ls` (or `ls --deleted`) prints
        from .entities import ViewType
        matches = [r for r in client.search_runs(run_view_type=ViewType.ALL) if r.info.run_id.startswith(run_id)]
        if len(matches) != 1:
            raise RunNotFoundError(f"{len(matches)} runs start with {run_id!r}; give more of the id")
        return matches[0]
    return client.get_run(run_id)


def cmd_show(args: argparse.Namespace) -> int:
    client = Client(args.dir)
    run = _find_run(client, args.run_id)
    info = run.info
    if args.json:
        print(json.dumps({"info": info.__dict__, "params": run.data.params, "tags": run.data.tags,
                          "metrics": {k: s.__dict__ for k, s in run.data.summaries.items()}}, indent=2, default=str))
        return 0
    print(f"Run {info.run_id}  {info.run_name!r}")
    print(f"  experiment  {printable(info.experiment)}")
    print(f"  status      {info.status}" + (f"  ({printable(info.error)})" if info.error else ""))
    if info.lifecycle_stage == "deleted":
        print(f"  deleted     {_fmt_time(client.deleted_time(info.run_id))} (in the trash: tracker gc removes it)")
    print(f"  started     {_fmt_time(info.start_time)}   ended {_fmt_time(info.end_time)}")
    commit = run.data.tags.get("tracker.source.git.commit")
    if commit:
        dirty = " (dirty)" if run.data.tags.get("tracker.source.git.dirty") == "true" else ""
        branch = printable(run.data.tags.get("tracker.source.git.branch", ""))
        print(f"  git         {printable(commit)} {branch}{dirty}")
    print(f"  artifacts   {printable(info.artifact_uri)}")
    for title, items in (("Params", run.data.params), ("Tags", {
            k: v for k, v in run.data.tags.items() if not k.startswith("tracker.")})):
        if items:
            print(title)
            for k, v in sorted(items.items()):
                print(f"  {printable(k)} = {printable(v)}")
    if run.data.summaries:
        print("Metrics (last / min / max / count)")
        for k, s in sorted(run.data.summaries.items()):
            print(f"  {printable(k)}: {_fmt_value(s.last)} / {_fmt_value(s.min)} / {_fmt_value(s.max)} / {s.count}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import write_demo_runs
    root = Path(args.dir) if args.dir else get_tracking_dir()
    write_demo_runs(root)
    print(f"Wrote demo runs to {root}")
    code = cmd_ls(argparse.Namespace(dir=root, experiment=None, filter=None, sort=None))
    from .demo import MODEL_NAME
    versions = Client(root).list_model_versions(MODEL_NAME)
    print(f"Registered model {MODEL_NAME}: " + ", ".join(
        f"v{v.version} {v.current_stage}" + "".join(f" @{a}" for a in v.aliases) for v in reversed(versions)))
    return code


def cmd_gc(args: argparse.Namespace) -> int:
    """Remove deleted runs for good (not those a registered model version came from), and what killed
    writers left behind (temp files, half-created runs)."""
    from .purge import parse_duration, purge_deleted_runs
    from .store.tempfiles import STALE_SECONDS, collect
    root = Path(args.dir) if args.dir else get_tracking_dir()
    older_than = parse_duration(args.older_than) if args.older_than is not None else None
    verb = "would remove" if args.dry_run else "removed"
    purged = purge_deleted_runs(root, older_than or 0.0, dry_run=args.dry_run, run_ids=args.run_ids)
    for run_id in purged.removed:
        print(f"{verb} deleted run {run_id}")
    for run_id, versions in purged.refused.items():
        print(f"kept deleted run {run_id}: registered model version(s) {', '.join(map(printable, versions))} "
              "came from it; delete those versions first", file=sys.stderr)
    done = collect(root, older_than=older_than if older_than is not None else STALE_SECONDS, dry_run=args.dry_run)
    for path in done.removed:
        print(f"{verb} {printable(path)}")
    for name in done.skipped_live:
        print(f"skipped run {name}: its writer is still running", file=sys.stderr)
    for error in [*purged.errors, *done.errors]:
        print(f"warning: {printable(error)}", file=sys.stderr)
    print(f"{verb} {len(purged.removed)} deleted run(s), {purged.bytes:,} bytes, and {len(done.removed)} "
          f"leftover(s), {done.bytes:,} bytes, in {printable(root)}", file=sys.stderr)
    return 1 if done.errors or purged.errors or purged.refused else 0


def cmd_ui(args: argparse.Namespace) -> int:
    """Hand over to the desktop app; tracker itself never imports Qt or ``app``. The app checks its
    own dependencies (the [app] extra) and says how to install them when they are missing."""
    import importlib.util
    import os
    if importlib.util.find_spec("app.main") is None:
        print("tracker: the desktop app is not installed: pip install 'tracker[app]'", file=sys.stderr)
        return 1
    argv = [sys.executable, "-m", "app.main", *([str(args.dir)] if args.dir else [])]
    os.execv(sys.executable, argv)
    return 0  # not reached: execv replaces this process


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracker", description="Local-first experiment tracker")
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("ls", help="list runs")
    ls.add_argument("--dir", default=None, help="runs directory (default: $TRACKER_DIR or ./runs)")
    ls.add_argument("--experiment", action="append", help="only this experiment (repeatable)")
    ls.add_argument("--filter", help="filter expression, e.g. \"metrics.accuracy > 0.9 and params.max_depth = '10'\"")
    ls.add_argument("--sort", help="order, e.g. 'metrics.accuracy DESC' (default: newest first)")
    ls.add_argument("--deleted", action="store_true", help="list the deleted runs (in the trash) instead")
    ls.set_defaults(func=cmd_ls)
    show = sub.add_parser("show", help="show one run")
    show.add_argument("run_id", help="run id (or a unique prefix)")
    show.add_argument("--dir", default=None)
    show.add_argument("--json", action="store_true", help="print as JSON")
    show.set_defaults(func=cmd_show)
    demo = sub.add_parser("demo", help="write demo runs")
    demo.add_argument("dir", nargs="?", help="runs directory (default: $TRACKER_DIR or ./runs)")
    demo.set_defaults(func=cmd_demo)
    gc = sub.add_parser("gc", help="remove deleted runs for good, and what killed writers left behind")
    gc.add_argument("--dir", default=None, help="runs directory (default: $TRACKER_DIR or ./runs)")
    gc.add_argument("--older-than", default=None, metavar="AGE",
                    help="only runs deleted this long ago, and leftovers untouched this long: seconds, or e.g. "
                         "30d, 12h, 1d2h30m (default: every deleted run, leftovers older than an hour; live "
                         "writers are never touched)")
    gc.add_argument("--run-ids", type=lambda text: [t.strip() for t in text.split(",") if t.strip()], default=None,
                    metavar="ID,ID", help="only these deleted runs")
    gc.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    gc.set_defaults(func=cmd_gc)
    ui = sub.add_parser("ui", help="open the desktop app")
    ui.add_argument("dir", nargs="?")
    ui.set_defaults(func=cmd_ui)
    try:
        from .registry_cli import add_models_parser
        add_models_parser(sub)
    except ImportError:
        pass
    from .mlflow_import import add_import_parser
    add_import_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (ValueError, LookupError, OSError) as e:
        print(f"tracker: error: {printable(e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

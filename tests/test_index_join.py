"""Tables read in chunks and joined hold what one table of all the runs holds, and a refresh
that offers partial tables hands each out once and never changes it afterwards."""
from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import store
from tracker.entities import RunStatus
from tracker.store.liveness import process_start_ticks, this_host
from tracker.index import RunIndex, RunTable, TableBuilder

from filter_strategies import run_lists
from index_fixtures import root  # noqa: F401


def _table(pairs) -> RunTable:
    builder = TableBuilder("/nowhere")
    for name, run in pairs:
        builder.add_run(name, None, run)
    return builder.build()


def _seen(table: RunTable) -> list[str]:
    """Each run as shown (repr: NaN equals NaN there; sorted: key order is not part of a run)."""
    out = []
    for run, folder in zip(table.runs(), table.dirs()):
        data = run.data
        out.append(repr((folder, run.info.run_name, run.info.status,
                         *(sorted(d.items()) for d in (data.params, data.tags, data.metrics)))))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(max_size=12), data=st.data())
def test_chunks_joined_hold_what_one_table_holds(runs, data):
    names = [f"{n:032x}" for n in range(len(runs))]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(runs)), max_size=4)))
    bounds = [0, *cuts, len(runs)]
    parts = [_table(list(zip(names, runs))[a:b]) for a, b in zip(bounds, bounds[1:])]
    joined = RunTable.joined("/nowhere", parts)
    assert joined.n == len(runs)
    assert _seen(joined) == _seen(_table(zip(names, runs)))


def _doc(i: int, status: str = RunStatus.FINISHED) -> dict:
    doc = store.new_document(f"{i:032x}", f"r{i}", "Default", 1000 + i)
    doc["info"]["status"] = status
    doc["params"] = {"i": str(i)}
    return doc


def test_partial_tables_offered_are_left_as_they_were(root, monkeypatch):  # noqa: F811
    """The last table offered can be the very table the refresh ends with; its RUNNING runs are
    re-checked at the end, and that must not change the table the caller was given."""
    from tracker.index import run_index
    monkeypatch.setattr(run_index, "PARTIAL_FIRST", 10)
    monkeypatch.setattr(run_index, "CHUNK", 10)
    monkeypatch.setattr(run_index, "PARTIAL_SECONDS", 0.0)
    writer = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        for i in range(49):
            store.write_document(_folder(root, i), _doc(i))
        live = _doc(49, RunStatus.RUNNING)  # its writer: the process above, alive while the runs are read
        live["info"].update(pid=writer.pid, pid_start=process_start_ticks(writer.pid), host=this_host())
        store.write_document(_folder(root, 49), live)
        offered = []

        def partial(table: RunTable) -> None:
            offered.append((table, _seen(table)))
            if table.n == 50:  # every run read: the writer dies before the refresh ends
                writer.communicate(b"")
        result = RunIndex(root).refresh(partial=partial)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    sizes = [table.n for table, _ in offered]
    assert sizes == [10, 20, 30, 50]  # the first, then each time the runs read are half as many again
    for table, seen in offered:
        assert _seen(table) == seen  # nothing changed a table once it was handed out
    assert offered[-1][0].run(offered[-1][0].position(f"{49:032x}")).info.status == RunStatus.RUNNING
    assert result.table.run(result.table.position(f"{49:032x}")).info.status == RunStatus.KILLED


def _folder(runs_root, i: int):
    path = runs_root / f"{i:032x}"
    path.mkdir()
    return path

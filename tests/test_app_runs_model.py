"""The runs table model: Qt's model tester, sorting, filtering, nesting, incremental updates."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QItemSelectionModel, Qt

from app_fixtures import *  # noqa: F403
from app_fixtures import log_run, write_unreadable
from filter_strategies import expressions, run_lists

from tracker import store
from tracker.entities import Run, RunData, RunInfo, UnreadableRun
from tracker.filter import is_filter_expression, parse_filter

from app.runs.columns import column_for
from app.runs.rows import RowFilter, arrange, base_order, nest, table_of_runs
from app.runs.model import RAW, RUN_ROLE, RunsTableModel


def make_run(name, start=1_000, params=None, metrics=None, parent=None, experiment="exp",
             status="FINISHED", run_id=None, tags=None) -> Run:
    run_id = run_id or f"{abs(hash(name)) % 16**32:032x}"
    info = RunInfo(run_id, name, experiment, status, start, start + 500, "", parent_run_id=parent)
    return Run(info, RunData(params or {}, tags or {}, metrics or {}), f"/nowhere/{run_id}")


def names(model: RunsTableModel) -> list[str]:
    column = model.column_index("name")
    return [model.index(r, column).data().lstrip("\u2003\u21b3\u25be\u25b8 ") for r in range(model.rowCount())]


@pytest.fixture
def disk_runs(runs_root):
    parent = log_run("parent", "exp-a", params={"depth": "10"}, metrics={"acc": 0.5})
    with_child = tracker_start_nested(parent)
    log_run("small", "exp-a", params={"depth": "9"}, metrics={"acc": 0.9})
    log_run("big", "exp-b", params={"depth": "100"}, metrics={"acc": 0.7})
    log_run("crashed", "exp-b", fail=True)
    write_unreadable(runs_root)
    runs, bad = store.read_all_runs(runs_root)
    return [*runs, *bad], with_child


def tracker_start_nested(parent_id: str) -> str:
    import tracker
    with tracker.start_run(run_id=parent_id):
        with tracker.start_run(run_name="child", nested=True) as child:
            tracker.log_param("depth", "11")
            return child.info.run_id


def test_qt_model_tester_through_every_kind_of_change(qtmodeltester, disk_runs):
    runs, _ = disk_runs
    model = RunsTableModel()
    model.set_runs(runs[:3])
    qtmodeltester.check(model)  # the tester stays attached: every change below is checked too
    model.upsert(runs[3:])
    model.set_extra_columns(["params.depth", "metrics.acc"])
    model.sort(model.column_index("params.depth"), Qt.SortOrder.AscendingOrder)
    model.set_filter(RowFilter(None, "metrics.acc > 0.6"))
    model.set_filter(RowFilter("exp-a"))
    model.set_filter(RowFilter())
    model.remove([runs[0].info.run_id])
    model.set_extra_columns(["metrics.acc"])
    model.upsert(runs[:1])
    assert model.total_count() == len(runs)


def test_params_sort_as_numbers_and_missing_values_go_last(qapp):
    model = RunsTableModel()
    model.set_runs([make_run("nine", params={"depth": "9"}), make_run("ten", params={"depth": "10"}),
                    make_run("hundred", params={"depth": "100"}), make_run("none"),
                    make_run("tiny", params={"depth": "1e-3"})])
    model.set_extra_columns(["params.depth"])
    column = model.column_index("params.depth")
    model.sort(column, Qt.SortOrder.AscendingOrder)
    assert names(model) == ["tiny", "nine", "ten", "hundred", "none"]
    model.sort(column, Qt.SortOrder.DescendingOrder)
    assert names(model) == ["hundred", "ten", "nine", "tiny", "none"]
    assert model.index(0, column).data() == "100"
    assert model.index(0, column).data(RAW) == 100.0  # the raw value under Qt.UserRole


def test_metrics_sort_numerically_with_nan_and_missing_last(qapp):
    model = RunsTableModel()
    model.set_runs([make_run("a", metrics={"loss": 10.0}), make_run("b", metrics={"loss": 9.5}),
                    make_run("c", metrics={"loss": float("nan")}), make_run("d"),
                    make_run("e", metrics={"loss": -1.0})])
    model.set_extra_columns(["metrics.loss"])
    column = model.column_index("metrics.loss")
    model.sort(column, Qt.SortOrder.AscendingOrder)
    assert names(model)[:3] == ["e", "b", "a"]
    assert set(names(model)[3:]) == {"c", "d"}
    model.sort(column, Qt.SortOrder.DescendingOrder)
    assert names(model)[:3] == ["a", "b", "e"]
    assert model.index(0, column).data(Qt.ItemDataRole.TextAlignmentRole) is not None  # numbers right


def test_nested_runs_follow_their_parent_whatever_the_sort(qapp):
    parent = make_run("parent", start=1, metrics={"m": 5.0}, run_id="a" * 32)
    runs = [parent,
            make_run("child-low", start=2, metrics={"m": 1.0}, parent="a" * 32),
            make_run("child-high", start=3, metrics={"m": 9.0}, parent="a" * 32),
            make_run("other", start=4, metrics={"m": 3.0})]
    model = RunsTableModel()
    model.set_runs(runs)
    model.set_extra_columns(["metrics.m"])
    model.sort(model.column_index("metrics.m"), Qt.SortOrder.AscendingOrder)
    assert names(model) == ["other", "parent", "child-low", "child-high"]
    name = model.column_index("name")
    assert model.index(2, name).data().startswith("\u21b3 ")
    model.sort(model.column_index("metrics.m"), Qt.SortOrder.DescendingOrder)
    assert names(model) == ["parent", "child-high", "child-low", "other"]
    # filtered out parent: its children stand alone
    model.set_filter(RowFilter(None, "child"))
    assert names(model) == ["child-high", "child-low"]
    assert not model.index(0, name).data().startswith("\u21b3")


def test_nest_survives_a_parent_cycle():
    table = table_of_runs("/nowhere", [make_run("a", run_id="a" * 32, parent="b" * 32),
                                       make_run("b", run_id="b" * 32, parent="a" * 32)])
    rows, depth = nest(table, base_order(table))
    assert sorted(rows.tolist()) == [0, 1] and len(depth) == 2


def test_grammar_and_plain_text_filters(qapp):
    model = RunsTableModel()
    model.set_runs([make_run("resnet-a", metrics={"acc": 0.95}, params={"opt": "adam"}),
                    make_run("resnet-b", metrics={"acc": 0.5}, tags={"stage": "prod"}),
                    make_run("vit", metrics={"acc": 0.99}, experiment="other")])
    model.set_filter(RowFilter(None, "metrics.acc > 0.9 and params.opt = 'adam'"))
    assert names(model) == ["resnet-a"]
    model.set_filter(RowFilter(None, "RESNET"))
    assert sorted(names(model)) == ["resnet-a", "resnet-b"]
    model.set_filter(RowFilter(None, "stage=prod"))  # plain text also matches tags
    assert names(model) == ["resnet-b"]
    model.set_filter(RowFilter("other", "metrics.acc > 0.9"))
    assert names(model) == ["vit"]


def test_unreadable_runs_show_a_warning_and_never_match_expressions(qapp):
    bad = UnreadableRun("e" * 32, "/nowhere/" + "e" * 32, "run.json is damaged: Expecting value")
    model = RunsTableModel()
    model.set_runs([make_run("ok"), bad])
    row = model.row_of("e" * 32)
    status = model.index(row, model.column_index("status"))
    assert status.data(Qt.ItemDataRole.DecorationRole) is not None
    assert "damaged" in status.data(Qt.ItemDataRole.ToolTipRole)
    assert status.data(RUN_ROLE) is bad
    model.set_filter(RowFilter(None, "damaged"))
    assert model.visible_count() == 1
    model.set_filter(RowFilter(None, "attributes.status = 'FINISHED'"))
    assert names(model) == ["ok"]


def test_live_updates_insert_and_update_rows_and_keep_the_selection(qtbot):
    from PySide6.QtWidgets import QTableView
    model = RunsTableModel()
    model.set_runs([make_run("old", start=1), make_run("older", start=0)])
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.selectionModel().select(model.index(1, 0), QItemSelectionModel.SelectionFlag.Select
                                 | QItemSelectionModel.SelectionFlag.Rows)
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(model.rowsInserted):
        model.upsert([make_run("new", start=5)])  # newest first: inserted above the selection
    assert names(model) == ["new", "old", "older"]
    selected = [i.row() for i in view.selectionModel().selectedRows()]
    assert selected == [2] and names(model)[2] == "older"
    with qtbot.waitSignal(model.dataChanged):
        model.upsert([make_run("older", start=0, status="FAILED")])
    assert model.index(2, 0).data(RAW) == "FAILED"
    with qtbot.waitSignal(model.rowsRemoved):
        model.remove([make_run("old").info.run_id])
    assert [i.row() for i in view.selectionModel().selectedRows()] == [1]
    assert not resets


def test_arrange_orders_ties_by_base_order():
    table = table_of_runs("/nowhere", [make_run(n, start=s, metrics={"m": 1.0})
                                       for n, s in (("x", 1), ("y", 3), ("z", 2))])
    ordered, _ = arrange(table, base_order(table), None, column_for("metrics.m"), False)
    assert [table.text["run_name"].get(i) for i in ordered] == ["y", "z", "x"]  # equal keys: newest first


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=run_lists(), text=st.one_of(expressions(), st.sampled_from(("adam", "A%B run", "x'y", ""))),
       experiment=st.sampled_from((None, "default", "adam")))
def test_row_filter_agrees_with_the_grammar(runs, text, experiment):
    bad = UnreadableRun("f" * 32, "/nowhere/" + "f" * 32, "damaged adam")
    every = [*runs, bad]
    matches = parse_filter(text).matches if is_filter_expression(text) else None
    words = text.lower().split()

    def search(r) -> str:  # what plain text looks in
        if isinstance(r, UnreadableRun):
            return f"{r.run_id}\n{r.path}\n{r.reason}".lower()
        i = r.info
        return "\n".join([i.run_name, i.run_id, i.experiment, i.user, *map("=".join, r.data.tags.items())]).lower()

    def shown(r) -> bool:  # the definition: tracker.filter on the run, or every word
        if experiment is not None and (isinstance(r, UnreadableRun) or r.info.experiment != experiment):
            return False
        if matches is not None:
            return not isinstance(r, UnreadableRun) and matches(r)
        return all(w in search(r) for w in words)
    table = table_of_runs("/nowhere", every)
    want = [i for i, r in enumerate(every) if shown(r)]
    assert RowFilter(experiment, text).select(table).tolist() == want


def test_filter_sees_live_updates_to_values(qapp):
    model = RunsTableModel()
    model.set_runs([make_run("a", metrics={"acc": 0.5}), make_run("b", start=2_000, metrics={"acc": 0.95})])
    model.set_filter(RowFilter(None, "metrics.acc > 0.9"))
    assert names(model) == ["b"]
    model.upsert([make_run("a", metrics={"acc": 0.99})])  # the kept value columns are stale now
    assert names(model) == ["b", "a"]
    model.upsert([make_run("b", start=2_000, metrics={"acc": 0.1}), make_run("c", start=3_000)])
    model.set_filter(RowFilter(None, "metrics.acc > 0.9 or metrics.acc < 0"))
    assert names(model) == ["a"]
    model.remove([make_run("a").info.run_id])
    model.set_filter(RowFilter(None, "metrics.acc < 0.2"))
    assert names(model) == ["b"]


def test_filter_changes_few_ranges_or_many_keep_rows_and_selection_right(qtmodeltester):
    from PySide6.QtCore import QPersistentModelIndex
    # letters that no run id (hex), experiment ("exp") or user holds: plain text looks there too
    runs = [make_run(f"r{i:02d}-{'gh'[i % 2]}{'kw'[i // 20 % 2]}", start=i) for i in range(60)]
    model = RunsTableModel()
    model.set_runs(runs)
    qtmodeltester.check(model)  # checks every insert/remove/layout change below
    column = model.column_index("name")
    for text in ["k", "", "g", "w", "gk", "r1", "", "h", "hk", "r0", "", "r2", "zz", "r5 w", ""]:
        kept = [QPersistentModelIndex(model.index(r, column)) for r in range(0, model.rowCount(), 7)]
        kept_names = [i.data() for i in kept]
        model.set_filter(RowFilter(None, text))
        want = [run.info.run_name for run in reversed(runs) if all(w in run.info.run_name for w in text.split())]
        assert names(model) == want
        assert all(i.data() == n for i, n in zip(kept, kept_names) if i.isValid())
        assert all(not i.isValid() for i, n in zip(kept, kept_names) if n not in want)


def _nest_reference(ids: list[str], parent: dict[str, str | None]) -> list[tuple[str, int]]:
    """Each run right after its shown parent, depth-first, siblings in their order (runs in a cycle last)."""
    shown = set(ids)
    children: dict[str, list[str]] = {}
    nested = set()
    for r in ids:
        p = parent[r]
        if p is not None and p != r and p in shown:
            children.setdefault(p, []).append(r)
            nested.add(r)
    out: list[tuple[str, int]] = []

    def place(r: str, depth: int) -> None:
        out.append((r, depth))
        for c in children.get(r, ()):
            place(c, depth + 1)
    for r in ids:
        if r not in nested:
            place(r, 0)
    placed = {r for r, _ in out}
    out += [(r, 0) for r in ids if r not in placed]
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-1, 9), min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_nesting_places_every_run_after_its_parent(parents, rng):
    ids = [f"{i:032x}" for i in range(len(parents))]
    parent = {ids[i]: (ids[p] if 0 <= p < len(ids) else None) for i, p in enumerate(parents)}
    runs = [make_run(f"r{i}", start=i, run_id=ids[i], parent=parent[ids[i]]) for i in range(len(ids))]
    table = table_of_runs("/nowhere", runs)
    rows = np.array(rng.sample(range(len(ids)), rng.randint(1, len(ids))), dtype=np.int64)
    got, depth = nest(table, rows)
    want = _nest_reference([ids[i] for i in rows.tolist()], parent)
    got_pairs = list(zip([ids[i] for i in got.tolist()], [0] * len(got) if depth is None else depth.tolist()))
    acyclic = [(r, d) for r, d in want if _reaches_root(r, parent, set(ids[i] for i in rows.tolist()))]
    assert [p for p in got_pairs if p[0] in {r for r, _ in acyclic}] == acyclic
    assert sorted(r for r, _ in got_pairs) == sorted(r for r, _ in want)  # runs in a cycle are listed too


def _reaches_root(r: str, parent: dict, shown: set) -> bool:
    seen = set()
    while True:
        p = parent[r]
        if p is None or p == r or p not in shown:
            return True
        if r in seen:
            return False
        seen.add(r)
        r = p


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=12), st.data())
def test_base_order_after_a_patch_is_the_base_order(starts, data):
    from app.runs.rows import base_order_after
    from app.runs.snapshot import table_changes_rows
    runs = [make_run(f"r{i}", start=s, run_id=f"{i:032x}") if ok else
            UnreadableRun(f"{i:032x}", f"/nowhere/{i:032x}", "damaged") for i, (s, ok) in enumerate(starts)]
    old = table_of_runs("/nowhere", runs)
    gone = data.draw(st.lists(st.sampled_from([r.info.run_id if isinstance(r, Run) else r.run_id for r in runs]),
                              unique=True))
    fresh = [make_run(f"n{i}", start=data.draw(st.integers(0, 5)), run_id=f"{100 + i:032x}")
             for i in range(data.draw(st.integers(0, 3)))]
    redo = [make_run("again", start=data.draw(st.integers(0, 5)), run_id=runs[0].info.run_id)] if (
        isinstance(runs[0], Run) and runs[0].info.run_id not in gone and data.draw(st.booleans())) else []
    new = old.patched(table_of_runs("/nowhere", [*fresh, *redo]), gone)
    changed = table_changes_rows(old, new)[2]
    if redo:
        changed = np.union1d(changed, [new.position(redo[0].info.run_id)])
    assert base_order_after(old, base_order(old), new, changed).tolist() == base_order(new).tolist()

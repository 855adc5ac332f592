"""Compile a parsed filter (``tracker.filter``'s AST) into one generated Python loop.

``RunFilter.matches`` evaluates a comparison through three or four nested closures, ~4.5 us
a run in the GUI: 45 ms of a keystroke's 100 ms budget at 10,000 runs. Here the whole
expression becomes the condition of a single loop, and the loop reads each field's values
from a list (``ValueColumns``) rather than from every run's dicts: those dicts lie scattered
in memory, and reading one key from 10,000 of them costs ~9 ms, a list ~1 ms (measured in
the app on 10,000 runs x 20 params x 10 metrics). Keep a ``ValueColumns`` while the runs do
not change and only the first keystroke with a new key pays for its scan.

Safety: the generated source holds only names made up here (``_k3``, ``_f0``), operators from
a fixed table and attribute names from the grammar's fixed attribute list. Every key and
value the user typed is passed in as a closure constant, never pasted into the source, so user
text never reaches the compiler. An expression not worth compiling (hundreds of comparisons)
or that fails to compile falls back to ``tracker.filter``'s closures: the same answers.

The semantics are exactly ``parse_filter(text).matches(run)``'s (tests compare the two on
generated runs and expressions): a missing key or unset attribute is false, ``not`` is plain
negation, NaN matches only ``!=``, a param against a number literal compares as a number when
it parses and as text otherwise.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable, Iterable, Literal, Sequence

from tracker.filter_ast import ATTRIBUTES, BoolOp, Compare, Not, compile_predicate, to_float
from tracker.filter_like import like_matcher

__all__ = ["Layout", "Selector", "ValueColumns", "compile_selector"]

# "run": tracker's Run (run.info, run.data.metrics ...).
# "row": a flattened row with .info, .metrics, .params, .tags and .run, whose .info is None
#        when there is no readable run behind it (such rows never match an expression).
Layout = Literal["run", "row"]
Spec = tuple[str, str, bool]  # (field kind, key, parsed as a number): one column of values

_GUARD: Spec = ("guard", "", False)  # row layout: whether the row has a readable run
# Python compiles ~0.1 ms a comparison: beyond this many, a keystroke would wait longer for
# the compiler than the closures take to filter 10,000 runs, so those take over.
_MAX_COMPARISONS = 200
_PY_OPS = {"=": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
_ATTRIBUTE_NAMES = frozenset(ATTRIBUTES.values())  # the only attribute names pasted as code
_DICTS = {  # where each layout keeps metrics/params/tags
    "run": {"metric": "data.metrics", "param": "data.params", "tag": "data.tags"},
    "row": {"metric": "metrics", "param": "params", "tag": "tags"},
}


class ValueColumns:
    """Each field's values over one fixed sequence of items (None where missing), built on
    first use and kept: valid for as long as neither the items nor their values change."""

    def __init__(self, items: Sequence[Any], layout: Layout = "run", limit: int = 64) -> None:
        self.items = items
        self.layout = layout
        self._limit = limit  # columns kept; beyond it start over (10,000 rows: 80 kB each)
        self._columns: dict[Spec, list[Any]] = {}

    def column(self, spec: Spec) -> list[Any]:
        values = self._columns.get(spec)
        if values is None:
            values = self._build(spec)
            if len(self._columns) >= self._limit:
                self._columns.clear()
            self._columns[spec] = values
        return values

    def _build(self, spec: Spec) -> list[Any]:
        kind, key, as_number = spec
        if as_number:
            return [None if v is None else to_float(v) for v in self.column((kind, key, False))]
        if kind == "guard":
            return [r.info is not None for r in self.items]
        if kind == "attr":
            get = attrgetter(key)
            values = [None if info is None else get(info) for info in map(attrgetter("info"), self.items)]
        else:
            values = [d.get(key) for d in map(attrgetter(_DICTS[self.layout][kind]), self.items)]
        return _compact(values)


def _compact(values: list[Any]) -> list[Any]:
    """The same values, in objects that lie together in memory: a fresh copy of each float
    (``-(-v)`` is exact, sign and NaN included) and one object per distinct string. Comparing
    10,000 of them then takes ~0.7 ms instead of 1.5-3 (the originals are scattered)."""
    same: dict[str, str] = {}
    return [-(-v) if type(v) is float else same.setdefault(v, v) if type(v) is str else v
            for v in values]


class Selector:
    """A compiled filter: ``select`` the matching items of many, or ask if one ``accepts``."""

    def __init__(self, layout: Layout, specs: tuple[Spec, ...], select: Callable[..., list[Any]],
                 accepts: Callable[[Any], bool]) -> None:
        self.layout, self.specs, self._select, self.accepts = layout, specs, select, accepts

    def select(self, items: Iterable[Any] | ValueColumns) -> list[Any]:
        """The items that match, in order. Pass a kept ``ValueColumns`` to reuse its columns."""
        if not isinstance(items, ValueColumns):
            items = ValueColumns(list(items), self.layout)
        elif items.layout != self.layout:
            raise ValueError(f"columns for {items.layout!r} items, filter compiled for {self.layout!r}")
        return self._select(items.items, *map(items.column, self.specs))

    def select_range(self, items: ValueColumns, start: int, stop: int) -> list[Any]:
        """The matching items among ``items.items[start:stop]``: a caller can stop between ranges."""
        if items.layout != self.layout:
            raise ValueError(f"columns for {items.layout!r} items, filter compiled for {self.layout!r}")
        return self._select(items.items[start:stop], *(items.column(spec)[start:stop] for spec in self.specs))


class _Generator:
    """Writes the condition twice: over column values (select) and over one item (accepts)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.constants: list[Any] = []
        self.specs: dict[Spec, str] = {}  # column -> its loop variable in select
        self.variables = self.comparisons = 0
        self.columnar = True

    def constant(self, value: Any) -> str:
        self.constants.append(value)
        return f"_k{len(self.constants) - 1}"

    def variable(self) -> str:
        self.variables += 1
        return f"_v{self.variables - 1}"

    def column(self, spec: Spec) -> str:
        return self.specs.setdefault(spec, f"_f{len(self.specs)}")

    def condition(self, ast: Any, columnar: bool) -> str:
        self.columnar = columnar
        text = self.expression(ast)
        if self.layout == "row":
            guard = self.column(_GUARD) if columnar else "r.info is not None"
            text = f"{guard} and {text}"
        return text

    def expression(self, node: Any) -> str:
        # Only BoolOps and comparisons add parentheses, `not` none: Python's parser refuses
        # more than 200 nested parentheses, and the grammar allows 100 levels.
        if isinstance(node, BoolOp):
            joiner = " and " if node.op == "and" else " or "
            return "(" + joiner.join(self.expression(child) for child in node.children) + ")"
        if isinstance(node, Not):
            return "not " + self.expression(node.child)
        if isinstance(node, Compare):
            return self.compare(node)
        raise TypeError(f"not a filter node: {node!r}")

    def value(self, c: Compare) -> str:
        kind, key = c.field.kind, c.field.key
        if kind == "attr" and key not in _ATTRIBUTE_NAMES:  # never from user text, but make sure
            raise ValueError(f"unknown attribute {key!r}")
        if self.columnar:
            return self.column((kind, key, False))
        if kind == "attr":
            return f"r.info.{key}"
        return f"r.{_DICTS[self.layout][kind]}.get({self.constant(key)})"

    def compare(self, c: Compare) -> str:
        self.comparisons += 1
        v = self.variable()
        if c.op == "in":
            test = f"{v} in {self.constant(frozenset(c.value))}"
        elif c.op in ("like", "ilike"):
            test = f"{self.constant(like_matcher(c.value, c.op == 'ilike'))}({v})"
        elif c.field.kind == "param" and c.literal:  # a param against a number literal
            n = self.variable()
            number = (self.column((c.field.kind, c.field.key, True)) if self.columnar
                      else f"{self.constant(to_float)}({v})")
            # As tracker.filter's param_test: a param that does not parse compares as text,
            # which never equals a number (unless spelled the same) and is never ordered.
            fallback = ("True" if c.op == "!=" else
                        f"{v} == {self.constant(c.literal)}" if c.op == "=" else "False")
            test = (f"({n} {_PY_OPS[c.op]} {self.constant(c.value)} if ({n} := {number}) is not None "
                    f"else {fallback})")
        else:
            test = f"{v} {_PY_OPS[c.op]} {self.constant(c.value)}"
        if c.negate:
            test = f"not ({test})"
        return f"(({v} := {self.value(c)}) is not None and {test})"


def _generate(ast: Any, layout: Layout) -> Selector:
    gen = _Generator(layout)
    per_item = gen.condition(ast, columnar=False)
    if gen.comparisons > _MAX_COMPARISONS:
        raise ValueError(f"{gen.comparisons} comparisons: more than the compiler is worth")
    columnar = gen.condition(ast, columnar=True)
    constants = [f"_k{i}" for i in range(len(gen.constants))]
    columns = [f"_c{name[2:]}" for name in gen.specs.values()]  # _f3 reads column _c3
    source = (f"def _make({', '.join(constants)}):\n"
              f"    def select(rows, {', '.join(columns)}):\n"
              f"        out = []\n"
              f"        append = out.append\n"
              f"        for r, {', '.join(gen.specs.values())} in zip(rows, {', '.join(columns)}):\n"
              f"            if {columnar}:\n"
              f"                append(r)\n"
              f"        return out\n"
              f"    def accepts(r):\n"
              f"        return bool({per_item})\n"
              f"    return select, accepts\n")
    namespace: dict[str, Any] = {"__builtins__": {"bool": bool, "zip": zip}}
    exec(compile(source, "<tracker filter>", "exec"), namespace)  # noqa: S102 (see the docstring)
    select, accepts = namespace["_make"](*gen.constants)
    return Selector(layout, tuple(gen.specs), select, accepts)


def _fallback(ast: Any, layout: Layout) -> Selector:
    predicate = compile_predicate(ast)
    if layout == "row":
        def accepts(r: Any) -> bool:
            return r.info is not None and bool(predicate(r.run))
    else:
        def accepts(r: Any) -> bool:
            return bool(predicate(r))
    return Selector(layout, (), lambda rows: [r for r in rows if accepts(r)], accepts)


def compile_selector(ast: Any, layout: Layout = "run") -> Selector:
    """Compile ``parse_filter(text).ast`` (not None) for runs (``"run"``) or table rows (``"row"``)."""
    try:
        return _generate(ast, layout)
    except (SyntaxError, RecursionError, MemoryError, ValueError):  # too long, or too deep for Python
        return _fallback(ast, layout)

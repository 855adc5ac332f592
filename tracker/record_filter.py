"""The runs' filter grammar over other records (registered models, model versions, experiments).

``tracker.filter`` parses; a table of fields (``field_table``) says what each name means for a
kind of record, and ``compile_records`` turns the tree into a predicate over such records. Every
comparison means what it means for runs (``filter_ast.compile_predicate`` over the field's
value): the same operators, literals, LIKE and the same missing-value rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .exceptions import InvalidParameterValue
from .filter import FilterSyntaxError, parse_expression
from .filter_ast import BoolOp, Field, Not, compile_predicate

NUMBER, TEXT = True, False
TAG_PREFIXES = {"tag", "tags"}
ATTRIBUTE_PREFIXES = {"attribute", "attributes", "attr"}


class RecordFilterError(FilterSyntaxError, InvalidParameterValue):
    """A filter that does not parse, or names a field the records do not have: a ``FilterSyntaxError``
    (with ``.position``) and MLflow's ``MlflowException`` with ``INVALID_PARAMETER_VALUE``."""


@dataclass(frozen=True)
class RecordField(Field):
    """A record's field: ``read(record)`` gives its value (an iterable of values when ``many``);
    comparisons see the value itself, so ``getter`` is the identity."""

    attribute: str = ""
    is_numeric: bool = False
    many: bool = False

    @property
    def numeric(self) -> bool:  # type: ignore[override]
        return self.is_numeric

    def getter(self) -> Callable[[Any], Any]:
        return _identity

    def read(self, record: Any) -> Any:
        if self.kind == "tag":
            return record.tags.get(self.key)
        return getattr(record, self.attribute)


def _identity(value: Any) -> Any:
    return value


def field_table(fields: dict[str, tuple[str, bool]], many: frozenset[str] = frozenset()) -> Callable[[Any, str], Field]:
    """The parser's field lookup for records whose attributes are ``{name: (attribute, numeric)}``
    plus ``tags.<key>``; attributes in ``many`` hold several values (a match on any one counts)."""
    shown = ", ".join(sorted(fields))

    def resolve(prefix: str | None, key: str) -> Field:
        if prefix is not None and prefix.lower() in TAG_PREFIXES:
            if not key:
                raise ValueError(f"expected a tag key after '{prefix}.', as in tags.team")
            return RecordField("tag", key)
        if prefix is not None and prefix.lower() not in ATTRIBUTE_PREFIXES:
            raise ValueError(f"invalid entity type '{prefix}'; use tags.<key> or one of {shown}")
        found = fields.get(key.lower())
        if found is None:
            raise ValueError(f"invalid attribute key '{key}'; valid keys are {shown} and tags.<key>")
        attribute, numeric = found
        return RecordField("attr", key.lower(), attribute, numeric, many=attribute in many)
    return resolve


def compile_records(node: Any) -> Callable[[Any], bool]:
    """The tree as closures over a record (None: every record matches)."""
    if node is None:
        return lambda record: True
    if isinstance(node, BoolOp):
        preds = [compile_records(child) for child in node.children]
        if node.op == "and":
            return lambda r: all(p(r) for p in preds)
        return lambda r: any(p(r) for p in preds)
    if isinstance(node, Not):
        inner = compile_records(node.child)
        return lambda r: not inner(r)
    test, read = compile_predicate(node), node.field.read
    if node.field.many:
        return lambda r: any(test(v) for v in read(r))
    return lambda r: test(read(r))


def record_filter(text: str | None, fields: Callable[[Any, str], Field]) -> Callable[[Any], bool]:
    """A predicate over records for the filter ``text`` (blank: every record); ``RecordFilterError`` when it is bad."""
    try:
        ast = parse_expression(text or "", fields)
    except FilterSyntaxError as e:
        raise RecordFilterError(e.problem, e.text, e.position) from None
    return compile_records(ast)

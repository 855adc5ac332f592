"""Filter and order strings for ``search_registered_models`` and ``search_model_versions``.

The filter grammar is the runs' one (``tracker.filter``): ``AND``, ``OR``, ``NOT``, parentheses,
``= != < <= > >=``, ``LIKE``/``ILIKE`` (``\\_`` and ``\\%`` literal) and ``IN``, with the same
literals and the same missing-value rule (a comparison on a field a record lacks is false).
Only the table of fields differs. MLflow's fields::

    versions: name  version_number  run_id  source_path  tags.<key>     models: name  tags.<key>

and this library's: ``current_stage`` (or ``stage``, any case), ``description``, ``user``,
``experiment``, ``alias`` (true when any alias matches), ``creation_timestamp`` and
``last_updated_timestamp`` (numbers, like ``version_number``, also spelled ``version``).
``attribute.<field>`` is the same as ``<field>``; ``tag.<key>`` as ``tags.<key>``.

A malformed filter or an unknown field raises ``RegistryFilterError``: a ``FilterSyntaxError``
(with ``.position``) and MLflow's ``MlflowException`` with ``INVALID_PARAMETER_VALUE``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from ..exceptions import InvalidParameterValue
from ..filter import FilterSyntaxError, parse_expression
from ..filter_ast import BoolOp, Compare, Not
from ..record_filter import NUMBER, TEXT, RecordFilterError, compile_records, field_table
from .entities import normalize_stage


class RegistryFilterError(RecordFilterError):
    """A registry filter that does not parse, or names a field the registry does not have."""


_NUMBER, _TEXT = NUMBER, TEXT
_VERSION_FIELDS: dict[str, tuple[str, bool]] = {
    "name": ("name", _TEXT), "version_number": ("version", _NUMBER), "version": ("version", _NUMBER),
    "run_id": ("run_id", _TEXT), "source_path": ("source", _TEXT), "source": ("source", _TEXT),
    "current_stage": ("current_stage", _TEXT), "stage": ("current_stage", _TEXT),
    "description": ("description", _TEXT), "user": ("user", _TEXT), "experiment": ("experiment", _TEXT),
    "alias": ("aliases", _TEXT), "aliases": ("aliases", _TEXT),
    "creation_timestamp": ("creation_timestamp", _NUMBER),
    "last_updated_timestamp": ("last_updated_timestamp", _NUMBER),
}
_MODEL_FIELDS = {k: _VERSION_FIELDS[k] for k in (
    "name", "description", "alias", "aliases", "creation_timestamp", "last_updated_timestamp")}
# A version's aliases are a list, a model's {alias: version}: iterating either gives the names.
_TABLES = {"version": field_table(_VERSION_FIELDS, frozenset({"aliases"})),
           "model": field_table(_MODEL_FIELDS, frozenset({"aliases"}))}


@dataclass(frozen=True)
class RegistryFilter:
    """A parsed registry filter: ``matches(record)``; ``names()`` what it requires the name to be."""

    text: str
    ast: Any  # None for the empty filter
    matches: Callable[[Any], bool]

    def names(self) -> tuple[str, ...] | None:
        """Names a matching record must have (from ``name =``/``name IN`` joined by AND at the
        top), for narrowing the database query; None when the filter does not say."""
        children = self.ast.children if isinstance(self.ast, BoolOp) and self.ast.op == "and" else (self.ast,)
        for child in children:
            if isinstance(child, Compare) and child.field.key == "name" and child.field.kind == "attr" \
                    and not child.negate and child.op in ("=", "in"):
                return (child.value,) if child.op == "=" else tuple(child.value)
        return None


def parse_filter(text: str | None, kind: str) -> RegistryFilter:
    """``kind`` is "version" or "model"; RegistryFilterError for a malformed filter or an unknown field."""
    text = text or ""
    try:
        ast = parse_expression(text, _TABLES[kind])
        ast = None if ast is None else _normalize_stages(ast, text)
    except FilterSyntaxError as e:
        raise RegistryFilterError(e.problem, e.text, e.position) from None
    return RegistryFilter(text, ast, compile_records(ast))


def _normalize_stages(node: Any, text: str) -> Any:
    """Stage names in any case, as everywhere in the registry: 'STAGING' is Staging."""
    if isinstance(node, BoolOp):
        return BoolOp(node.op, tuple(_normalize_stages(c, text) for c in node.children))
    if isinstance(node, Not):
        return Not(_normalize_stages(node.child, text))
    if node.field.kind != "attr" or node.field.attribute != "current_stage" or node.op not in ("=", "!=", "in"):
        return node
    values = node.value if node.op == "in" else (node.value,)
    try:
        normalized = tuple(map(normalize_stage, values))
    except ValueError as e:
        bad = next(v for v in values if not _is_stage(v))
        raise FilterSyntaxError(str(e), text, max(0, text.find(bad) - 1)) from None
    return dataclasses.replace(node, value=normalized if node.op == "in" else normalized[0])


def _is_stage(value: str) -> bool:
    try:
        normalize_stage(value)
    except ValueError:
        return False
    return True


_FIELD_ALIASES = {"stage": "current_stage", "version_number": "version", "source_path": "source"}
_NUMERIC = {"version", "creation_timestamp", "last_updated_timestamp"}


def parse_order_by(order_by: list[str] | str | None, allowed: set[str]) -> list[tuple[str, bool]]:
    """``["version DESC", "name"]`` -> [("version", True), ("name", False)]."""
    if order_by is None:
        return []
    items = [order_by] if isinstance(order_by, str) else list(order_by)
    out = []
    for item in items:
        words = str(item).split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise InvalidParameterValue(f"order_by {item!r}: use '<field> [ASC|DESC]'")
        field = _FIELD_ALIASES.get(words[0].lower(), words[0].lower())
        if field not in allowed:
            raise InvalidParameterValue(f"order_by {item!r}: unknown field; use one of {', '.join(sorted(allowed))}")
        out.append((field, len(words) == 2 and words[1].upper() == "DESC"))
    return out


def sort_objects(objs: list, keys: list[tuple[str, bool]]) -> list:
    for field, desc in reversed(keys):  # stable sorts, least significant key first
        objs.sort(key=lambda o: (getattr(o, field) is None, getattr(o, field) or 0)
                  if field in _NUMERIC else str(getattr(o, field) or ""), reverse=desc)
    return objs

"""MLflow-style filter and order strings for ``search_registered_models``/``search_model_versions``.

Grammar: conditions joined by ``AND`` (any case)::

    name = 'm'          name != 'm'       name LIKE 'fraud%'      name ILIKE '%FRAUD%'
    name IN ('a', 'b')  version >= 3      run_id = '...'          current_stage = 'production'
    tags.team = 'ml'    tags.`with space` = 'x'    alias = 'champion'

Strings are single or double quoted (a quote is doubled or backslash-escaped inside). ``name =``
and ``name IN`` are pushed into SQL; the rest is evaluated on the plain objects (portable SQL, and
LIKE means the same on every database: case-sensitive, ILIKE case-insensitive).
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any

from ..filter_like import like_matcher
from .entities import normalize_stage

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|<>|==|=|<|>|\(|\)|,)
    | (?P<ident>(?:tags|tag)\.`[^`]+`|[A-Za-z_][\w.]*)
    )""", re.VERBOSE)
_NUMERIC = {"version", "creation_timestamp", "last_updated_timestamp"}
_VERSION_FIELDS = {"name", "version", "run_id", "source", "current_stage", "description", "user",
                   "experiment", "alias", "creation_timestamp", "last_updated_timestamp"}
_MODEL_FIELDS = {"name", "description", "alias", "creation_timestamp", "last_updated_timestamp"}
_FIELD_ALIASES = {"stage": "current_stage", "version_number": "version", "run": "run_id",
                  "source_path": "source", "aliases": "alias"}


@dataclass(frozen=True)
class Condition:
    field: str  # a field name, or "tags.<key>"
    op: str  # =, !=, <, <=, >, >=, LIKE, ILIKE, IN
    value: Any

    def matches(self, obj: Any) -> bool:
        if self.field.startswith("tags."):
            actual = obj.tags.get(self.field[5:])
        elif self.field == "alias":
            aliases = obj.aliases.keys() if isinstance(obj.aliases, dict) else obj.aliases
            return any(Condition("x", self.op, self.value).test(a) for a in aliases)
        else:
            actual = getattr(obj, self.field)
        if actual is None:
            return self.op == "!=" and self.value is not None
        return self.test(actual)

    def test(self, actual: Any) -> bool:
        op, value = self.op, self.value
        if op == "IN":
            return actual in value
        if op in ("LIKE", "ILIKE"):
            return like_matcher(value, op == "ILIKE")(str(actual))
        if isinstance(value, (int, float)) != isinstance(actual, (int, float)):
            return op == "!="  # a number never equals text
        return _OPS[op](actual, value)


_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge}


def _unquote(token: str) -> str:
    quote = token[0]
    body = token[1:-1].replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"filter {text!r}: cannot parse at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse_filter(text: str | None, kind: str) -> list[Condition]:
    """``kind`` is "version" or "model"; ValueError (naming the valid fields) on anything else."""
    if not text or not text.strip():
        return []
    fields = _VERSION_FIELDS if kind == "version" else _MODEL_FIELDS
    toks, i, conditions = _tokens(text), 0, []

    def expect(kinds: tuple[str, ...]) -> tuple[str, str]:
        nonlocal i
        if i >= len(toks) or toks[i][0] not in kinds:
            got = toks[i][1] if i < len(toks) else "the end"
            raise ValueError(f"filter {text!r}: expected {' or '.join(kinds)}, got {got!r}")
        i += 1
        return toks[i - 1]

    def literal() -> Any:
        k, v = expect(("str", "num"))
        return _unquote(v) if k == "str" else (float(v) if "." in v else int(v))

    while True:
        _, field = expect(("ident",))
        field = _FIELD_ALIASES.get(field.lower(), field if field.startswith(("tags.", "tag.")) else field.lower())
        if field.startswith(("tags.", "tag.")):
            key = field.split(".", 1)[1]
            field = "tags." + (key[1:-1] if key.startswith("`") else key)
        elif field not in fields:
            raise ValueError(f"filter {text!r}: unknown field {field!r}; use one of "
                             f"{', '.join(sorted(fields))} or tags.<key>")
        if i < len(toks) and toks[i][0] == "ident" and toks[i][1].upper() in ("LIKE", "ILIKE", "IN"):
            op = toks[i][1].upper()
            i += 1
        else:
            op = {"==": "=", "<>": "!="}.get(toks[i][1], toks[i][1]) if i < len(toks) else ""
            expect(("op",))
            if op not in ("=", "!=", "<", "<=", ">", ">="):
                raise ValueError(f"filter {text!r}: unexpected {op!r} after {field}")
        if op == "IN":
            if expect(("op",))[1] != "(":
                raise ValueError(f"filter {text!r}: IN needs a parenthesised list")
            values = [literal()]
            while (sep := expect(("op",))[1]) == ",":
                values.append(literal())
            if sep != ")":
                raise ValueError(f"filter {text!r}: IN list must end with ')'")
            value: Any = tuple(values)
        else:
            value = literal()
        if field == "current_stage":
            value = tuple(normalize_stage(v) for v in value) if op == "IN" else \
                normalize_stage(value) if op in ("=", "!=") else value
        if field in _NUMERIC and op not in ("LIKE", "ILIKE") and not (
                isinstance(value, (int, float)) or (op == "IN" and all(isinstance(v, int) for v in value))):
            raise ValueError(f"filter {text!r}: {field} is compared with numbers")
        conditions.append(Condition(field, op, value))
        if i >= len(toks):
            return conditions
        kind, word = toks[i]
        if kind != "ident" or word.upper() != "AND":
            raise ValueError(f"filter {text!r}: expected AND, got {word!r} (OR is not supported)")
        i += 1


def parse_order_by(order_by: list[str] | str | None, allowed: set[str]) -> list[tuple[str, bool]]:
    """``["version DESC", "name"]`` -> [("version", True), ("name", False)]."""
    if order_by is None:
        return []
    items = [order_by] if isinstance(order_by, str) else list(order_by)
    out = []
    for item in items:
        words = str(item).split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise ValueError(f"order_by {item!r}: use '<field> [ASC|DESC]'")
        field = _FIELD_ALIASES.get(words[0].lower(), words[0].lower())
        if field not in allowed:
            raise ValueError(f"order_by {item!r}: unknown field; use one of {', '.join(sorted(allowed))}")
        out.append((field, len(words) == 2 and words[1].upper() == "DESC"))
    return out


def sort_objects(objs: list, keys: list[tuple[str, bool]]) -> list:
    for field, desc in reversed(keys):  # stable sorts, least significant key first
        objs.sort(key=lambda o: (getattr(o, field) is None, getattr(o, field) or 0)
                  if field in _NUMERIC else str(getattr(o, field) or ""), reverse=desc)
    return objs

"""Filter and order runs with MLflow's ``search_runs`` grammar, plus ``or``, ``not`` and parentheses.

    metrics.accuracy > 0.9 and params.optimizer = 'adam'
    (tags.stage = 'prod' or status = 'RUNNING') and not metrics.`val/loss` >= 1e-3
    params.model ILIKE '%resnet%' and attributes.user IN ('ana', 'bo')

Semantics worth knowing:

* A comparison on a metric, param or tag the run lacks (or an ``end_time`` still unset) is
  false whatever the operator, so ``metrics.x != 1`` skips runs without ``x``. ``not`` is
  plain boolean negation, so ``not metrics.x > 1`` *does* match runs without ``x``.
* NaN metric values match only ``!=`` (IEEE semantics).
* ``params.depth = 10`` compares numerically when the param parses as a number ('10.0'
  matches); a param that does not parse matches only ``!=``. ``>``/``<`` on quoted strings
  are rejected: lexicographic order of '9' and '10' would surprise.
* ``LIKE`` is case-sensitive with SQL wildcards ``%`` and ``_`` (``\\%`` and ``\\_`` match them
  literally); ``ILIKE`` ignores case. Neither backtracks: a match takes at most (value length
  x pattern length) steps (``tracker/filter_like.py``). String literals take ``\\'`` or
  doubled-quote escapes.

The text is parsed once into a small AST (``tracker/filter_ast.py``, which also gives its
meaning as nested closures) that ``RunFilter`` compiles once, so a filter re-runs over many
runs for little more than the dict look-ups. No ``eval`` of user text anywhere.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable, Iterable, NamedTuple

from tracker.entities import Run

from .filter_ast import (
    ATTRIBUTES, COMPARISONS, BoolOp, Compare, Field, Not, Predicate, compile_predicate,
)

__all__ = ["FilterSyntaxError", "RunFilter", "parse_filter", "filter_runs",
           "is_filter_expression", "parse_expression"]  # ordering by the same fields: tracker.ordering

_PREFIXES = {
    "metric": "metric", "metrics": "metric",
    "param": "param", "params": "param", "parameter": "param", "parameters": "param",
    "tag": "tag", "tags": "tag",
    "attribute": "attr", "attributes": "attr", "attr": "attr", "run": "attr",
}
_KEYWORDS = {"and", "or", "not", "like", "ilike", "in"}
_OPS = ("!=", ">=", "<=", "==", "=", ">", "<")  # longest first, so '>=' is not read as '>' '='
_ORDERING_OPS = {">", ">=", "<", "<="}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Deep nesting would otherwise hit RecursionError, which is not a ValueError.
_MAX_DEPTH = 100

# Another table of fields for the same grammar (the registry's): (prefix or None, key) -> Field,
# or ValueError whose message names the problem (the parser adds the position).
FieldTable = Callable[[Any, str], Field]


class FilterSyntaxError(ValueError):
    """A filter (or order_by clause) that does not parse.

    ``position`` is the 0-based character offset in ``text`` the GUI can underline;
    ``problem`` is the message without the position and caret lines.
    """

    def __init__(self, problem: str, text: str, position: int, what: str = "filter") -> None:
        self.problem, self.text, self.position = problem, text, position
        # One character in, one out, so the caret stays under the right column.
        shown = "".join(" " if c in "\t\r\n" else c for c in text)
        super().__init__(f"Invalid {what} at position {position}: {problem}\n"
                         f"    {shown}\n    {' ' * position}^")


class _Token(NamedTuple):
    kind: str  # "ident" "number" "string" "op" "kw" "(" ")" "," "end"
    value: Any  # ident: (prefix or None, key); number: float; op/kw: lower-cased text
    pos: int
    text: str  # as written, for messages


def _is_word_char(c: str) -> bool:
    # Combining marks (category M*) are needed for keys in e.g. Devanagari or Thai.
    return c.isalnum() or c in "_-/." or unicodedata.category(c)[0] == "M"


def _read_quoted(text: str, start: int, what: str, kind: str) -> tuple[str, int]:
    """Read the quoted text opening at ``text[start]``; return (content, index after it)."""
    quote, out, i = text[start], [], start + 1
    while i < len(text):
        c = text[i]
        escaped = (c == "\\" and text[i + 1:i + 2] in (quote, "\\")) or (c == quote == text[i + 1:i + 2])
        if escaped and quote != "`":  # \' \\ and SQL's doubled '' (backquoted keys have no escapes)
            out.append(text[i + 1])
            i += 2
        elif c == quote:
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise FilterSyntaxError(f"unterminated {what} (no closing {quote})", text, start, kind)


def _tokenize(text: str, kind: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c, start = text[i], i
        if c.isspace():
            i += 1
            continue
        if c in "(),":
            tokens.append(_Token(c, c, i, c))
            i += 1
        elif c in "'\"":
            value, i = _read_quoted(text, i, "string", kind)
            tokens.append(_Token("string", value, start, text[start:i]))
        elif (m := _NUMBER.match(text, i)) is not None:
            i = m.end()
            if i < n and _is_word_char(text[i]):  # 1abc, 1.2.3: report the whole thing
                bad = re.match(r"[\w.]*", text[i:]).group()  # type: ignore[union-attr]
                raise FilterSyntaxError(f"malformed number {text[start:i] + bad!r}", text, start, kind)
            tokens.append(_Token("number", float(m.group()), start, m.group()))
        elif c == "`":
            raise FilterSyntaxError("a backquoted key must follow a prefix, as in metrics.`val/acc`",
                                    text, i, kind)
        elif c.isalpha() or c == "_":
            while i < n and _is_word_char(text[i]):
                i += 1
            word = text[start:i]
            if word.endswith(".") and i < n and text[i] in '`"':  # metrics.`a b` or metrics."a b"
                key, i = _read_quoted(text, i, "quoted key", kind)
                tokens.append(_Token("ident", (word[:-1], key), start, text[start:i]))
            elif "." in word:
                prefix, key = word.split(".", 1)
                tokens.append(_Token("ident", (prefix, key), start, word))
            elif word.lower() in _KEYWORDS:
                tokens.append(_Token("kw", word.lower(), start, word))
            else:
                tokens.append(_Token("ident", (None, word), start, word))
        else:
            op = next((op for op in _OPS if text.startswith(op, i)), None)
            if op is None:
                raise FilterSyntaxError(f"unexpected character {c!r}", text, i, kind)
            tokens.append(_Token("op", op, i, op))
            i += len(op)
    tokens.append(_Token("end", None, n, "the end"))
    return tokens


# ---- parser ----------------------------------------------------------------------------

def _describe(tok: _Token) -> str:
    return "the end of the text" if tok.kind == "end" else repr(tok.text)


class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary (AND unary)*;
    unary := NOT unary | '(' or_expr ')' | comparison."""

    def __init__(self, text: str, kind: str = "filter", fields: FieldTable | None = None) -> None:
        self.text, self.kind = text, kind
        self.fields = fields  # None: the runs' fields (metrics., params., tags., attributes)
        self.tokens = _tokenize(text, kind)
        self.i = self.depth = 0

    def error(self, problem: str, pos: int) -> FilterSyntaxError:
        return FilterSyntaxError(problem, self.text, pos, self.kind)

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def next(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)  # keep returning "end" at the end
        return tok

    def at_kw(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "kw" and tok.value in words

    def parse(self) -> Any:
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == ")":
            raise self.error("unbalanced ')': there is no '(' to close", tok.pos)
        if tok.kind != "end":
            raise self.error(f"expected AND, OR or the end of the filter, found {_describe(tok)}", tok.pos)
        return node

    def or_expr(self) -> Any:
        return self.chain("or", lambda: self.chain("and", self.unary))  # AND binds tighter

    def chain(self, word: str, operand: Callable[[], Any]) -> Any:
        # Flat children rather than nested pairs: long a OR b OR c... chains cost no recursion.
        children = [operand()]
        while self.at_kw(word):
            self.next()
            children.append(operand())
        return children[0] if len(children) == 1 else BoolOp(word, tuple(children))

    def unary(self) -> Any:
        tok = self.peek()
        if tok.kind != "(" and not self.at_kw("not"):
            return self.comparison()
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(f"nested more than {_MAX_DEPTH} levels deep", tok.pos)
        self.next()
        if tok.kind == "kw":
            node: Any = Not(self.unary())
        else:
            node = self.or_expr()
            close = self.peek()
            if close.kind != ")":
                found = "" if close.kind == "end" else f", found {_describe(close)}"
                raise self.error(f"missing ')' for the '(' at position {tok.pos}{found}", close.pos)
            self.next()
        self.depth -= 1
        return node

    def field(self, tok: _Token) -> Field:
        prefix, key = tok.value
        if self.fields is not None:
            try:
                return self.fields(prefix, key)
            except ValueError as e:
                raise self.error(str(e), tok.pos) from None
        attrs = ", ".join(sorted(ATTRIBUTES))
        if prefix is None:
            if key.lower() in ATTRIBUTES:
                return Field("attr", ATTRIBUTES[key.lower()])
            if key.lower() in _PREFIXES:
                raise self.error(f"{key!r} needs a key after a dot, as in {key}.accuracy", tok.pos)
            raise self.error(f"unknown attribute {key!r} (attributes are {attrs}; "
                             "use metrics., params. or tags. for keys)", tok.pos)
        kind = _PREFIXES.get(prefix.lower())
        if kind is None:
            raise self.error(f"unknown prefix '{prefix}.' (use metrics., params., tags. or attributes.)",
                             tok.pos)
        if not key:
            raise self.error(f"expected a key after '{prefix}.'", tok.pos + len(tok.text))
        if kind == "attr":
            if key.lower() not in ATTRIBUTES:
                raise self.error(f"unknown attribute {key!r} (attributes are {attrs})", tok.pos)
            return Field("attr", ATTRIBUTES[key.lower()])
        return Field(kind, key)

    def comparison(self) -> Compare:
        tok = self.next()
        if tok.kind != "ident":
            raise self.error(f"expected a key such as metrics.accuracy, found {_describe(tok)}", tok.pos)
        field = self.field(tok)
        op_tok, negate = self.next(), False
        if op_tok.kind == "kw" and op_tok.value == "not":
            op_tok, negate = self.next(), True
            if not (op_tok.kind == "kw" and op_tok.value in ("in", "like", "ilike")):
                raise self.error(f"expected IN, LIKE or ILIKE after NOT, found {_describe(op_tok)}",
                                 op_tok.pos)
        if op_tok.kind == "op" or (op_tok.kind == "kw" and op_tok.value in ("in", "like", "ilike")):
            op = "=" if op_tok.value == "==" else op_tok.value
        else:
            raise self.error(f"expected an operator (= != > >= < <= LIKE ILIKE IN) after {tok.text!r}, "
                             f"found {_describe(op_tok)}", op_tok.pos)
        shown_op = op_tok.text.upper()
        if field.numeric and op not in COMPARISONS:
            raise self.error(f"{shown_op} does not apply to numbers; use = != > >= < <=", op_tok.pos)
        if not field.numeric and field.kind != "param" and op in _ORDERING_OPS:
            raise self.error(f"{shown_op} does not apply to strings; use = != LIKE ILIKE IN", op_tok.pos)
        if op == "in":
            return Compare(field, op, self.in_list(op_tok), negate=negate)
        val = self.next()
        if val.kind not in ("number", "string"):
            raise self.error(f"expected a value after {shown_op}", val.pos)
        if field.numeric and val.kind == "string":
            raise self.error(f"{tok.text} is a number; compare it with an unquoted number", val.pos)
        if val.kind == "number" and (op in ("like", "ilike") or not (field.numeric or field.kind == "param")):
            raise self.error(f"expected a quoted string, as in '{val.text}'", val.pos)
        if val.kind == "string" and op in _ORDERING_OPS:  # only params get here
            raise self.error(f"{shown_op} on a param needs a number; strings use = != LIKE ILIKE IN",
                             op_tok.pos)
        return Compare(field, op, val.value, val.text if val.kind == "number" else "", negate)

    def in_list(self, op_tok: _Token) -> tuple[str, ...]:
        tok = self.next()
        if tok.kind != "(":
            raise self.error(f"expected '(' after IN, found {_describe(tok)}", tok.pos)
        items: list[str] = []
        while True:
            tok = self.next()
            if tok.kind != "string":
                raise self.error(f"expected a quoted string in the IN list, found {_describe(tok)}", tok.pos)
            items.append(tok.value)
            tok = self.next()
            if tok.kind == ")":
                return tuple(items)
            if tok.kind != ",":
                raise self.error(f"expected ',' or ')' in the IN list, found {_describe(tok)}", tok.pos)


# ---- public API ------------------------------------------------------------------------

class RunFilter:
    """A parsed filter. ``matches(run)`` is cheap; build one per text, reuse it per run."""

    def __init__(self, text: str, ast: Any | None) -> None:
        self.text = text
        self.ast = ast  # None for the empty filter
        self._predicate: Predicate = (lambda run: True) if ast is None else compile_predicate(ast)

    @property
    def is_empty(self) -> bool:
        return self.ast is None

    def matches(self, run: Run) -> bool:
        return self._predicate(run)

    __call__ = matches

    def __repr__(self) -> str:
        return f"RunFilter({self.text!r})"


def parse_filter(text: str) -> RunFilter:
    """Parse ``text``; an empty or blank string matches every run.

    Raises FilterSyntaxError (a ValueError) with ``.position`` when ``text`` is malformed.
    """
    if not text.strip():
        return RunFilter(text, None)
    return RunFilter(text, _Parser(text).parse())


def parse_expression(text: str, fields: FieldTable) -> Any | None:
    """The syntax tree of ``text`` over another table of fields (None when blank): the runs'
    grammar, operators, literals and LIKE, with ``fields`` deciding what each name means.

    Raises FilterSyntaxError (a ValueError) with ``.position`` when ``text`` is malformed.
    """
    if not text.strip():
        return None
    return _Parser(text, fields=fields).parse()


def filter_runs(runs: Iterable[Run], text: str) -> list[Run]:
    """The runs that match the filter ``text``, in their original order."""
    predicate = parse_filter(text).matches
    return [run for run in runs if predicate(run)]


_EXPRESSION_START = re.compile(
    r"[\s(]*(?:not\b[\s(]*)*(?:"
    rf"(?:{'|'.join(_PREFIXES)})\.[^\s.]"
    rf"|(?:{'|'.join(ATTRIBUTES)})\s*(?:[=!<>]|(?:not\s+)?(?:i?like|in)\b)"
    r")",
    re.IGNORECASE,
)


def is_filter_expression(text: str) -> bool:
    """Guess whether the filter box holds a grammar expression rather than plain search text.

    True when the text starts (after any '(' or NOT) with a prefix such as ``metrics.`` or
    with a bare attribute name followed by an operator, e.g. ``status = 'FAILED'``.
    """
    return _EXPRESSION_START.match(text) is not None


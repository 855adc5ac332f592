"""Tests for tracker.filter: the MLflow-style filter grammar and order_by."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.entities import Run, RunData, RunInfo
from tracker.ordering import order_keys, sort_runs
from tracker.filter import (
    FilterSyntaxError,
    RunFilter,
    filter_runs,
    is_filter_expression,
    parse_filter,
)


def make_run(
    run_id: str,
    *,
    name: str = "",
    status: str = "FINISHED",
    start: int = 0,
    end: int | None = None,
    user: str = "ana",
    experiment: str = "default",
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> Run:
    info = RunInfo(run_id=run_id, run_name=name or run_id, experiment=experiment, status=status,
                   start_time=start, end_time=end, artifact_uri="", user=user)
    return Run(info, RunData(params=params or {}, tags=tags or {}, metrics=metrics or {}))


@pytest.fixture
def runs() -> list[Run]:
    return [
        make_run("a", name="resnet-50", start=100, end=200, user="ana",
                 metrics={"accuracy": 0.9, "val/acc": 0.8, "loss": 0.1, "précision": 0.5},
                 params={"lr": "0.01", "max_depth": "10", "optimizer": "adam", "my param": "x"},
                 tags={"stage": "prod", "note": "Best Run"}),
        make_run("b", name="ResNet-18", status="RUNNING", start=300, user="bo",
                 metrics={"accuracy": 0.7, "loss": float("nan")},
                 params={"lr": "1e-3", "max_depth": "10.0", "optimizer": "sgd"},
                 tags={"stage": "dev"}),
        make_run("c", name="vit_small", status="FAILED", start=200, end=250, user="cy",
                 metrics={"accuracy": 0.95},
                 params={"lr": "auto", "optimizer": "Adam"}),
        make_run("d", name="mlp", start=50, end=60, user="",
                 params={"max_depth": "7"}, tags={"stage": "prod", "准确率": "高"}),
    ]


def ids(runs: list[Run], text: str) -> list[str]:
    return [r.info.run_id for r in filter_runs(runs, text)]


# ---- comparisons -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("metrics.accuracy = 0.9", ["a"]),
    ("metrics.accuracy == 0.9", ["a"]),
    ("metrics.accuracy != 0.9", ["b", "c"]),
    ("metrics.accuracy > 0.9", ["c"]),
    ("metrics.accuracy >= 0.9", ["a", "c"]),
    ("metrics.accuracy < 0.9", ["b"]),
    ("metrics.accuracy <= 0.9", ["a", "b"]),
    ("metrics.accuracy>0.8", ["a", "c"]),
    ("metrics.accuracy > 9e-1", ["c"]),
    ("metrics.accuracy > -1", ["a", "b", "c"]),
    ("metrics.accuracy > .92", ["c"]),
    ("metric.accuracy > 0.92", ["c"]),
])
def test_metric_comparisons(runs, text, expected):
    assert ids(runs, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("start_time > 100", ["b", "c"]),
    ("attributes.start_time <= 100", ["a", "d"]),
    ("attr.end_time >= 200", ["a", "c"]),  # b has no end_time yet: never matches
    ("run.end_time != 200", ["c", "d"]),
    ("status = 'RUNNING'", ["b"]),
    ("attributes.status != 'RUNNING'", ["a", "c", "d"]),
    ("run_name = 'mlp'", ["d"]),
    ("name LIKE 'res%'", ["a"]),
    ("run_id IN ('a', 'c')", ["a", "c"]),
    ("experiment = 'default'", ["a", "b", "c", "d"]),
    ("user = ''", ["d"]),
    ("attribute.user != 'ana'", ["b", "c", "d"]),
    ("STATUS = 'FAILED'", ["c"]),
])
def test_attributes(runs, text, expected):
    assert ids(runs, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("params.optimizer = 'adam'", ["a"]),
    ('params.optimizer = "adam"', ["a"]),
    ("param.optimizer != 'adam'", ["b", "c"]),
    ("parameters.optimizer LIKE 'a%'", ["a"]),
    ("params.optimizer ILIKE 'a%'", ["a", "c"]),
    ("params.optimizer like 'ADAM'", []),
    ("params.optimizer ilike 'ADAM'", ["a", "c"]),
    ("params.optimizer LIKE '_gd'", ["b"]),
    ("params.optimizer LIKE 'a_'", []),
    ("params.optimizer IN ('adam', 'sgd')", ["a", "b"]),
    ("params.optimizer in ('adam')", ["a"]),
    ("params.optimizer NOT IN ('adam', 'sgd')", ["c"]),  # d lacks optimizer: no match
    ("params.optimizer NOT LIKE 'a%'", ["b", "c"]),
    ("params.optimizer not ilike 'a%'", ["b"]),
    ("tags.stage = 'prod'", ["a", "d"]),
    ("tag.stage != 'prod'", ["b"]),
    ("tags.note ILIKE '%best%'", ["a"]),
    ("tags.note LIKE '%best%'", []),
])
def test_string_comparisons(runs, text, expected):
    assert ids(runs, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("params.max_depth = 10", ["a", "b"]),  # '10' and '10.0' both equal 10
    ("params.max_depth = '10'", ["a"]),  # quoted: exact string comparison
    ("params.max_depth != 10", ["d"]),
    ("params.max_depth > 8", ["a", "b"]),
    ("params.max_depth <= 7", ["d"]),
    ("params.lr > 0.005", ["a"]),  # 'auto' is not a number: no match
    ("params.lr < 0.005", ["b"]),
    ("params.lr != 0.01", ["b", "c"]),  # 'auto' differs from 0.01 as text
    ("params.lr = 0.01", ["a"]),
])
def test_params_numeric(runs, text, expected):
    assert ids(runs, text) == expected


def test_like_escapes_and_regex_characters():
    runs = [make_run("p", params={"x": "50%"}), make_run("q", params={"x": "500"}),
            make_run("r", params={"x": "a.b*c"}), make_run("s", params={"x": "a_b"})]
    assert ids(runs, r"params.x LIKE '50\%'") == ["p"]
    assert ids(runs, "params.x LIKE '50%'") == ["p", "q"]
    assert ids(runs, "params.x LIKE 'a.b*c'") == ["r"]  # regex metacharacters are literal
    assert ids(runs, r"params.x LIKE 'a\_b'") == ["s"]
    assert ids(runs, "params.x LIKE 'a_b'") == ["s"]


def test_string_literal_escapes():
    runs = [make_run("p", tags={"t": "it's"}), make_run("q", tags={"t": 'say "hi"'})]
    assert ids(runs, r"tags.t = 'it\'s'") == ["p"]
    assert ids(runs, "tags.t = 'it''s'") == ["p"]
    assert ids(runs, "tags.t = \"it's\"") == ["p"]
    assert ids(runs, r'tags.t = "say \"hi\""') == ["q"]
    assert ids(runs, 'tags.t = "say ""hi"""') == ["q"]


# ---- keys --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("metrics.`val/acc` > 0.5", ["a"]),
    ("metrics.val/acc > 0.5", ["a"]),
    ('metrics."val/acc" > 0.5', ["a"]),
    ("params.`my param` = 'x'", ["a"]),
    ('params."my param" = \'x\'', ["a"]),
    ("metrics.précision = 0.5", ["a"]),
    ("tags.准确率 = '高'", ["d"]),
    ("tags.`准确率` = '高'", ["d"]),
])
def test_quoted_slashed_and_unicode_keys(runs, text, expected):
    assert ids(runs, text) == expected


def test_keys_with_dots_dashes_and_odd_characters():
    run = make_run("a", metrics={"a.b": 1, "x-y": 2, "w(1) = z": 3, "ok": 4}, tags={"मान": "१"})
    assert filter_runs([run], "metrics.a.b = 1")
    assert filter_runs([run], "metrics.x-y = 2")
    assert filter_runs([run], "metrics.`w(1) = z` = 3")
    assert filter_runs([run], "tags.मान = '१'")  # combining marks in an unquoted key
    assert not filter_runs([run], "metrics.a.b = 2")


# ---- boolean logic -----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("metrics.accuracy > 0.8 and params.optimizer = 'adam'", ["a"]),
    ("metrics.accuracy > 0.8 AND params.optimizer = 'sgd'", []),
    ("status = 'FAILED' or status = 'RUNNING'", ["b", "c"]),
    # AND binds tighter than OR: this is FAILED or (RUNNING and acc > 0.8)
    ("status = 'FAILED' or status = 'RUNNING' and metrics.accuracy > 0.8", ["c"]),
    ("(status = 'FAILED' or status = 'RUNNING') and metrics.accuracy > 0.8", ["c"]),
    ("(status = 'FAILED' or status = 'RUNNING') and metrics.accuracy < 0.8", ["b"]),
    ("metrics.accuracy < 0.8 and status = 'RUNNING' or user = ''", ["b", "d"]),
    ("not status = 'FINISHED'", ["b", "c"]),
    ("NOT (status = 'FINISHED' or user = 'bo')", ["c"]),
    ("not not status = 'RUNNING'", ["b"]),
    ("not status = 'FINISHED' and user = 'bo'", ["b"]),  # NOT binds tightest
    ("((((tags.stage = 'prod'))))", ["a", "d"]),
    ("tags.stage = 'prod' or tags.stage = 'dev' or user = 'cy' or user = 'zz'", ["a", "b", "c", "d"]),
    ("user != 'zz' and user != 'yy' and start_time > 60", ["a", "b", "c"]),
])
def test_boolean_logic(runs, text, expected):
    assert ids(runs, text) == expected


def test_missing_keys_never_match_but_not_inverts(runs):
    assert ids(runs, "metrics.accuracy != 0.5") == ["a", "b", "c"]  # d has no accuracy
    assert ids(runs, "not metrics.accuracy = 0.5") == ["a", "b", "c", "d"]
    assert ids(runs, "params.nope = 'x' or params.nope != 'x'") == []
    assert ids(runs, "not (tags.stage = 'prod')") == ["b", "c"]


def test_nan_metrics_match_only_not_equal(runs):
    for op in ("=", ">", ">=", "<", "<="):
        assert "b" not in ids(runs, f"metrics.loss {op} 0.1"), op
    assert ids(runs, "metrics.loss != 0.1") == ["b"]


def test_empty_filter_matches_everything(runs):
    for text in ("", "   ", "\n\t"):
        f = parse_filter(text)
        assert f.is_empty and all(f.matches(r) for r in runs)
    assert len(filter_runs(runs, "")) == len(runs)


def test_keywords_are_case_insensitive(runs):
    assert ids(runs, "params.optimizer LiKe 'a%' Or NoT user In ('ana', 'bo', 'cy')") == ["a", "d"]


def test_parse_once_evaluate_many(runs):
    f = parse_filter("metrics.accuracy > 0.8")
    assert isinstance(f, RunFilter)
    assert [f(r) for r in runs] == [True, False, True, False]
    many = runs * 2500
    assert sum(map(f.matches, many)) == 5000


# ---- order_by ----------------------------------------------------------------------------

def order(runs: list[Run], *clauses: str) -> list[str]:
    return [r.info.run_id for r in sort_runs(runs, list(clauses))]


def test_default_order_is_newest_first(runs):
    assert order(runs) == ["b", "c", "a", "d"]
    assert [r.info.run_id for r in sort_runs(runs, None)] == ["b", "c", "a", "d"]


def test_order_by_metrics_missing_keys_last_both_ways(runs):
    # d has no accuracy; b's loss is NaN and sorts with the missing ones.
    assert order(runs, "metrics.accuracy DESC") == ["c", "a", "b", "d"]
    assert order(runs, "metrics.accuracy ASC") == ["b", "a", "c", "d"]
    assert order(runs, "metrics.accuracy") == ["b", "a", "c", "d"]
    assert order(runs, "metrics.loss desc")[0] == "a"
    assert order(runs, "metrics.`val/acc` DESC")[0] == "a"


def test_order_by_attributes(runs):
    assert order(runs, "attributes.start_time ASC") == ["d", "a", "c", "b"]
    assert order(runs, "start_time") == ["d", "a", "c", "b"]
    assert order(runs, "end_time DESC") == ["c", "a", "d", "b"]  # b still running: last
    assert order(runs, "end_time ASC") == ["d", "a", "c", "b"]
    assert order(runs, "run_name") == ["b", "d", "a", "c"]  # case-sensitive: 'ResNet' < 'mlp'
    assert order(runs, "status DESC", "name")[0] == "b"


def test_order_by_params_numeric_when_all_numbers(runs):
    assert order(runs, "params.max_depth DESC") == ["b", "a", "d", "c"]  # 10.0 ties 10: start_time DESC
    assert order(runs, "params.max_depth") == ["d", "b", "a", "c"]
    # 'auto' is not a number, so lr sorts as text: '0.01' < '1e-3' < 'auto'
    assert order(runs, "params.lr") == ["a", "b", "c", "d"]
    assert order(runs, "params.`my param` DESC") == ["a", "b", "c", "d"]


def test_order_by_ties_use_later_clauses():
    runs = [make_run("r1", start=1, metrics={"acc": 0.5}, params={"seed": "2"}),
            make_run("r2", start=2, metrics={"acc": 0.9}, params={"seed": "1"}),
            make_run("r3", start=3, metrics={"acc": 0.5}, params={"seed": "1"}),
            make_run("r4", start=3, metrics={"acc": 0.5}, params={"seed": "1"})]
    assert order(runs, "metrics.acc DESC", "params.seed ASC") == ["r2", "r3", "r4", "r1"]
    assert order(runs, "metrics.acc DESC", "params.seed DESC") == ["r2", "r1", "r3", "r4"]
    # Full ties fall back to start_time DESC, then run_id ASC, whatever the input order.
    assert order(list(reversed(runs)), "metrics.acc") == ["r3", "r4", "r1", "r2"]
    assert order(runs, "metrics.acc", "start_time ASC") == ["r1", "r3", "r4", "r2"]


def test_order_by_accepts_a_single_string(runs):
    assert [r.info.run_id for r in sort_runs(runs, "metrics.accuracy DESC")] == ["c", "a", "b", "d"]


@pytest.mark.parametrize("clause, position, fragment", [
    ("metrics.acc DOWN", 12, "expected ASC, DESC"),
    ("foo.bar", 0, "unknown prefix"),
    ("", 0, "expected a key"),
    ("metrics.`acc", 8, "unterminated"),
])
def test_order_by_errors(clause, position, fragment):
    with pytest.raises(FilterSyntaxError) as info:
        order_keys([clause])
    assert info.value.position == position
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"Invalid order_by at position {position}:")


# ---- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, position, fragment", [
    ("metrics.accuracy >", 18, "expected a value after >"),
    ("metrics.accuracy > and", 19, "expected a value after >"),
    ("foo.bar > 1", 0, "unknown prefix 'foo.'"),
    ("accuracy > 1", 0, "unknown attribute 'accuracy'"),
    ("attributes.colour = 'red'", 0, "unknown attribute 'colour'"),
    ("metrics > 1", 0, "needs a key"),
    ("metrics. > 1", 8, "expected a key after 'metrics.'"),
    ("params.x > 'a'", 9, "needs a number"),
    ("tags.x < 'a'", 7, "does not apply to strings"),
    ("metrics.x LIKE '%a'", 10, "does not apply to numbers"),
    ("metrics.x IN ('a')", 10, "does not apply to numbers"),
    ("metrics.x = 'a'", 12, "unquoted number"),
    ("start_time > 'yesterday'", 13, "unquoted number"),
    ("tags.x = 1", 9, "quoted string"),
    ("params.x LIKE 1", 14, "quoted string"),
    ("params.x = 'abc", 11, "unterminated string"),
    ("metrics.`val/acc > 1", 8, "unterminated quoted key"),
    ("`acc` > 1", 0, "backquoted key must follow a prefix"),
    ("(metrics.a > 1", 14, "missing ')' for the '(' at position 0"),
    ("(metrics.a > 1 metrics.b > 2", 15, "missing ')'"),
    ("metrics.a > 1)", 13, "unbalanced ')'"),
    ("metrics.a > 1 metrics.b > 2", 14, "expected AND, OR"),
    ("metrics.a > 1 and", 17, "expected a key"),
    ("()", 1, "expected a key"),
    ("metrics.a 1", 10, "expected an operator"),
    ("metrics.a ! 1", 10, "unexpected character '!'"),
    ("metrics.a > 1.2.3", 12, "malformed number"),
    ("metrics.a > 1abc", 12, "malformed number"),
    ("params.x NOT = 'a'", 13, "expected IN, LIKE or ILIKE after NOT"),
    ("params.x IN 'a'", 12, "expected '(' after IN"),
    ("params.x IN ('a' 'b')", 17, "expected ',' or ')'"),
    ("params.x IN ()", 13, "expected a quoted string"),
    ("params.x IN ('a', 2)", 18, "expected a quoted string"),
    ("status = RUNNING", 9, "expected a value"),
    ("metrics.a > 1 # comment", 14, "unexpected character '#'"),
])
def test_error_messages_name_the_problem_and_position(text, position, fragment):
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.position == position, str(err)
    assert fragment in err.problem, str(err)
    message = str(err)
    assert message.startswith(f"Invalid filter at position {position}: ")
    # The message shows the text with a caret under the offending column.
    text_line, caret_line = message.splitlines()[1:3]
    assert text_line.strip() == text.strip()
    assert caret_line.index("^") - text_line.index(text[0]) == position


def test_caret_stays_aligned_with_tabs_and_newlines():
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("metrics.a\t>\n'x'")
    _, text_line, caret_line = str(info.value).splitlines()
    assert text_line[caret_line.index("^")] == "'"


def test_deep_nesting_is_a_value_error():
    with pytest.raises(FilterSyntaxError, match="nested"):
        parse_filter("(" * 5000 + "status = 'x'" + ")" * 5000)
    with pytest.raises(FilterSyntaxError, match="nested"):
        parse_filter("not " * 5000 + "status = 'x'")
    assert parse_filter("(" * 50 + "status = 'x'" + ")" * 50)  # reasonable depth is fine


def test_long_or_chains_do_not_recurse(runs):
    text = " or ".join(f"metrics.accuracy = {i}" for i in range(5000))
    assert ids(runs, text) == []


_ALPHABET = st.sampled_from(list("metrics.paramstgs_`'\"()<>=!, 0123456789-+e%/\\ANDORNOTLIKEIN\t\né准"))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.text(_ALPHABET, max_size=60)))
def test_random_text_raises_only_value_error(text):
    try:
        f = parse_filter(text)
    except ValueError as err:
        if isinstance(err, FilterSyntaxError):
            assert 0 <= err.position <= len(text)
        return
    # Whatever parses must also evaluate without errors.
    run = make_run("a", metrics={"m": 1.0, "x": math.nan}, params={"p": "3", "s": "abc"}, tags={"t": "v"})
    f.matches(run)
    f.matches(make_run("b"))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_random_order_by_raises_only_value_error(clause):
    try:
        sort_runs([make_run("a"), make_run("b", metrics={"m": 1})], [clause])
    except ValueError:
        pass


# ---- is_filter_expression ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "metrics.accuracy > 0.9",
    "params.lr = '0.1'",
    "tags.stage = 'prod'",
    "attributes.status = 'FAILED'",
    "  (metrics.a > 1 or metrics.b > 2)",
    "not metrics.a > 1",
    "NOT (tags.x = 'y')",
    "status = 'FAILED'",
    "status='FAILED'",
    "name LIKE 'res%'",
    "run_name ilike '%x'",
    "user != 'ana'",
    "start_time > 5",
    "run_id IN ('a')",
    "status NOT IN ('a')",
    "metrics.`val acc` > 1",
    "Metrics.acc > 1",
])
def test_is_filter_expression_true(text):
    assert is_filter_expression(text)


@pytest.mark.parametrize("text", [
    "", "resnet", "status", "name", "resnet 50", "nothing", "notes about runs",
    "username = x", "metrics", "metrics.", "statuses = 'x'", "my status = 'x'",
])
def test_is_filter_expression_false(text):
    assert not is_filter_expression(text)

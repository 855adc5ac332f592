"""The registry's searches speak the runs' filter grammar: OR, NOT, parentheses, escaped LIKE,
ILIKE and IN mean the same over models, versions and runs; unknown fields are MLflow's error."""
from __future__ import annotations

import re

import pytest

import tracker
from tracker.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracker.filter import FilterSyntaxError

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")


@pytest.fixture
def client(tracking_dir, tmp_path):
    c = tracker.Client()
    source = tmp_path / "w.bin"
    source.write_bytes(b"weights")
    for name in ("a_b", "axb", "Fraud"):
        c.register_model(source, name)
    c.register_model(source, "axb", tags={"team": "ml"})
    c.set_registered_model_tag("Fraud", "team", "risk")
    c.transition_model_version_stage("axb", 2, "production")
    c.set_registered_model_alias("axb", "champion", 2)
    return c


def models(client, text):
    return sorted(m.name for m in client.search_registered_models(text))


def versions(client, text):
    return sorted((v.name, v.version) for v in client.search_model_versions(text))


def run_names(text):
    runs = tracker.search_runs(filter_string=text, output_format="list", search_all_experiments=True)
    return sorted(r.info.run_name for r in runs)


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"a\_b", ["a_b"]),  # an escaped underscore is itself, not any character
    ("a_b", ["a_b", "axb"]),
    (r"%\_%", ["a_b"]),
    ("A%", []),  # LIKE is case-sensitive
])
def test_like_means_the_same_for_models_versions_and_runs(client, pattern, expected):
    for name in ("a_b", "axb", "Fraud"):
        with tracker.start_run(run_name=name):
            pass
    text = "name LIKE '" + pattern.replace("'", "''") + "'"
    assert models(client, text) == expected
    assert sorted({name for name, _ in versions(client, text)}) == expected
    assert run_names("attributes.run_name LIKE '" + pattern + "'") == expected


def test_ilike_ignores_case_everywhere(client):
    assert models(client, "name ILIKE 'fRAUD'") == ["Fraud"]
    assert versions(client, "name ILIKE 'A%' AND version_number = 2") == [("axb", 2)]


def test_or_not_and_parentheses(client):
    assert models(client, "name = 'a_b' OR tags.team = 'risk'") == ["Fraud", "a_b"]
    assert models(client, "NOT name LIKE 'a%'") == ["Fraud"]
    assert models(client, "NOT (name = 'a_b' OR name = 'axb')") == ["Fraud"]
    assert versions(client, "(name = 'axb' OR name = 'Fraud') AND NOT version_number > 1") == \
        [("Fraud", 1), ("axb", 1)]
    assert versions(client, "tags.team = 'ml' OR current_stage = 'PRODUCTION'") == [("axb", 2)]
    assert versions(client, "name = 'axb' AND (alias = 'champion' OR version = 1)") == [("axb", 1), ("axb", 2)]
    assert versions(client, "name IN ('a_b', 'Fraud') AND version_number >= 1") == [("Fraud", 1), ("a_b", 1)]
    assert versions(client, "name NOT IN ('a_b', 'Fraud')") == [("axb", 1), ("axb", 2)]


def test_mlflow_field_names_for_versions(client, tmp_path):
    source = str(tmp_path / "w.bin")
    assert versions(client, f"source_path = '{source}' AND version_number = 2") == [("axb", 2)]
    assert versions(client, "attribute.name = 'Fraud'") == [("Fraud", 1)]
    assert versions(client, "tag.team = 'ml'") == versions(client, "tags.`team` = 'ml'") == [("axb", 2)]
    assert versions(client, "run_id = 'nope' OR run_id != 'nope'") == []  # no version has a run: always false


def test_a_missing_tag_is_false_whatever_the_operator_as_for_runs(client):
    assert models(client, "tags.team != 'risk'") == []  # only models with the tag are compared
    assert models(client, "NOT tags.team = 'risk'") == ["a_b", "axb"]


@pytest.mark.parametrize(("text", "problem"), [
    ("colour = 'red'", "invalid attribute key 'colour'"),
    ("metrics.acc > 1", "invalid entity type 'metrics'"),
    ("name = 'a' OR", "expected a key"),
    ("(name = 'a'", "missing ')'"),
    ("version_number = 'x'", "is a number"),
    ("name > 'a'", "does not apply to strings"),
    ("stage = 'prod'", "unknown stage 'prod'"),
])
def test_a_bad_filter_is_mlflows_invalid_parameter_error_with_a_position(client, text, problem):
    searches = [client.search_model_versions]
    if not text.startswith(("version", "stage")):  # fields models do not have
        searches.append(client.search_registered_models)
    for search in searches:
        with pytest.raises(MlflowException, match=re.escape(problem)) as caught:
            search(text)
        assert caught.value.error_code == INVALID_PARAMETER_VALUE
        assert isinstance(caught.value, FilterSyntaxError) and isinstance(caught.value, ValueError)
        assert 0 <= caught.value.position <= len(text)


def test_model_search_rejects_version_fields(client):
    with pytest.raises(MlflowException, match="invalid attribute key 'run_id'"):
        client.search_registered_models("run_id = 'x'")

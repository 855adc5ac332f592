"""`tracker models serve` as a real process on a free localhost port, asked over real HTTP (http.client
and urllib): each endpoint and input format, predictions equal to model.predict, and bad requests
answered with a 4xx naming the problem while the server keeps serving."""
from __future__ import annotations

import http.client
import json
import urllib.request

import numpy as np
import pytest

from serve_fixtures import NAME, iris, local_model, register_forests, sha256_tree, split_body
from tracker.serving import start_server

JSON = "application/json"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve") / "runs"
    register_forests(root, sizes=(5,))
    server = start_server(f"models:/{NAME}/1", tracking_dir=root, timeout=300)
    yield server, root
    server.stop()


def test_ping_health_version_over_urllib(served):
    server, _ = served
    for path in ("/ping", "/health"):
        with urllib.request.urlopen(server.url + path, timeout=30) as reply:
            assert reply.status == 200
    with urllib.request.urlopen(server.url + "/version", timeout=30) as reply:
        from importlib.metadata import version
        assert reply.read().decode() == version("tracker")


def bodies(frame):
    columns = list(frame.columns)
    rows = frame.to_numpy().tolist()
    return {
        "dataframe_split": (JSON, split_body(frame)),
        "dataframe_records": (JSON, json.dumps({"dataframe_records": frame.to_dict(orient="records")}).encode()),
        "instances": (JSON, json.dumps({"instances": rows}).encode()),
        "inputs": (JSON, json.dumps({"inputs": rows}).encode()),
        "inputs-columns": (JSON, json.dumps({"inputs": {c: frame[c].tolist() for c in columns}}).encode()),
        "csv": ("text/csv", frame.to_csv(index=False).encode()),
    }


@pytest.mark.parametrize("form", ["dataframe_split", "dataframe_records", "instances", "inputs", "inputs-columns",
                                  "csv"])
@pytest.mark.parametrize("rows", [1, 150])
def test_every_format_predicts_what_the_model_predicts(served, form, rows):
    server, root = served
    X, _ = iris()
    frame = X.sample(rows, random_state=rows) if rows < len(X) else X
    content_type, body = bodies(frame)[form]
    reply = server.invoke(body, content_type)
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == JSON and reply.headers["x-model-version"] == "1"
    expected = local_model(root, 1).predict(frame)
    assert reply.json() == {"predictions": expected.tolist()}


def test_a_thousand_rows_on_one_keep_alive_connection(served):
    server, root = served
    X, _ = iris()
    frame = X.sample(1000, replace=True, random_state=0)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        for _ in range(3):
            conn.request("POST", "/invocations", body=split_body(frame), headers={"Content-Type": JSON})
            reply = conn.getresponse()
            assert reply.status == 200
            predictions = json.loads(reply.read())["predictions"]
    finally:
        conn.close()
    assert np.array_equal(predictions, local_model(root, 1).predict(frame))


def test_metadata_names_the_version_its_run_commit_and_the_sha256_of_its_files(served):
    import tracker
    server, root = served
    meta = server.metadata()
    version = tracker.Client(root).get_model_version(NAME, 1)
    lineage = tracker.Client(root).get_model_lineage(NAME, 1)
    assert (meta["name"], meta["version"], meta["stage"], meta["aliases"]) == (NAME, 1, "Production", [])
    assert meta["run_id"] == version.run_id and meta["run_id"]
    assert meta["git_commit"] == lineage.git_commit
    assert meta["files"] == sha256_tree(root / "registry" / NAME / "1")  # hashed here, independently
    assert meta["follows"] is None and meta["swap_error"] is None
    example = meta["input_example"]
    assert server.invoke(example).json()["predictions"] == local_model(root, 1).predict(
        iris()[0].iloc[:3]).tolist()


def test_bad_requests_get_a_json_4xx_naming_the_problem_and_the_server_keeps_serving(served):
    server, _ = served
    X, _ = iris()
    columns = list(X.columns)
    cases = [
        (b'{"dataframe_split": {"columns": ', JSON, 400, "malformed JSON"),
        (json.dumps({"inputs": [[1.0, 2.0, 3.0]]}).encode(), JSON, 400, "expected 4 columns"),
        (json.dumps({"dataframe_records": [dict(zip(columns, [1.0, 2.0, "wide", 4.0]))]}).encode(), JSON, 400,
         f"column '{columns[2]}' expects double"),
        (b"", JSON, 400, "empty"),
        (b"{}", "text/plain", 415, "application/json or text/csv"),
    ]
    before = server.stats()
    for body, content_type, status, words in cases:
        reply = server.invoke(body, content_type)
        assert reply.status == status, reply.body
        assert reply.json()["error_code"] and words in reply.json()["message"]
        assert server.invoke(split_body(X.iloc[:1])).status == 200
    after = server.stats()
    assert after["client_errors"] - before["client_errors"] == len(cases)
    assert after["requests"] - before["requests"] == 2 * len(cases)
    assert after["last_latency_ms"] > 0


def test_a_100_mb_body_is_refused_with_413_and_the_server_keeps_serving(served):
    server, _ = served
    body = b'{"inputs": [' + b"1.0," * (25 * 2**20) + b"1.0]}"
    assert len(body) > 100 * 10**6
    conn = http.client.HTTPConnection(server.host, server.port, timeout=120)
    try:
        conn.request("POST", "/invocations", body=body, headers={"Content-Type": JSON})
        reply = conn.getresponse()
        answer = json.loads(reply.read())
    finally:
        conn.close()
    assert reply.status == 413 and answer["error_code"] == "REQUEST_TOO_LARGE"
    assert "limit is 33,554,432 bytes" in answer["message"]
    assert server.invoke(split_body(iris()[0].iloc[:2])).status == 200


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """A custom model whose predict raises on a negative input, served with its code trusted."""
    import tracker
    root = tmp_path_factory.mktemp("failing") / "runs"
    code = root.parent / "model.py"
    code.write_text(
        "import tracker\n"
        "class Doubler(tracker.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        if (model_input['x'] < 0).any():\n"
        "            raise ArithmeticError('negative input')\n"
        "        return (model_input['x'] * 2).tolist()\n"
        "tracker.models.set_model(Doubler())\n", encoding="utf-8")
    import pandas as pd
    tracker.pyfunc.save_model(root.parent / "doubler", python_model=str(code), input_example=pd.DataFrame({"x": [1.0]}))
    server = start_server(str(root.parent / "doubler"), tracking_dir=root, trust_code=True, timeout=300)
    yield server
    server.stop()


def test_a_model_that_raises_gives_a_500_with_its_error_and_the_server_keeps_serving(failing):
    reply = failing.invoke({"dataframe_records": [{"x": -1.0}]})
    assert reply.status == 500
    assert reply.json()["error_code"] == "INTERNAL_ERROR"
    assert "ArithmeticError: negative input" in reply.json()["message"]
    assert failing.invoke({"dataframe_records": [{"x": 2.5}]}).json() == {"predictions": [5.0]}
    assert failing.stats()["server_errors"] == 1
    assert "ArithmeticError" in failing.log_text()
    assert failing.metadata()["version"] is None and failing.invoke({"inputs": [1.0]}).headers[
        "x-model-version"].startswith("sha256:")


def test_a_custom_models_code_is_not_run_without_trust(tmp_path, failing):
    from tracker.serving import ServerStartError
    path = failing.metadata()["path"]
    with pytest.raises(ServerStartError, match="trust_code=True"):
        start_server(path, tracking_dir=tmp_path, timeout=300)


def test_answers_are_not_held_back_waiting_for_the_clients_delayed_ack(served):
    """A response written as headers then body must not wait for an ACK (Nagle's algorithm): that cost
    40 ms a request on a keep-alive connection, whatever the machine's speed."""
    import time
    server, _ = served
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    took = []
    try:
        for _ in range(41):
            start = time.perf_counter()
            conn.request("GET", "/ping")
            conn.getresponse().read()
            took.append(time.perf_counter() - start)
    finally:
        conn.close()
    assert sorted(took)[20] < 0.030

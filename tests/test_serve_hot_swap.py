"""A server started on a stage or an alias follows it: a stage change during a stream of requests fails
none of them and the X-Model-Version header switches; a tampered version is refused (at start, and as
a swap, with the old version still serving)."""
from __future__ import annotations

import http.client
import json
import os
import threading
import time

import pytest

from serve_fixtures import NAME, iris, local_model, register_forests, split_body, wait_for
from tracker.serving import ServerStartError, start_server

SWAP_DEADLINE_S = 2.0  # the registry is polled every 0.5 s; loading a small forest takes well under a second


class Stream:
    """Requests one after another on a keep-alive connection, in a thread, recording (status, version)."""

    def __init__(self, server, body: bytes) -> None:
        self.server, self.body = server, body
        self.answers: list[tuple[int, str | None, list]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            while not self._stop.is_set():
                conn.request("POST", "/invocations", body=self.body, headers={"Content-Type": "application/json"})
                reply = conn.getresponse()
                answer = json.loads(reply.read())
                self.answers.append((reply.status, reply.getheader("X-Model-Version"), answer.get("predictions")))
        except BaseException as e:  # noqa: BLE001 - any failure is what the test looks for
            self.errors.append(e)
        finally:
            conn.close()

    def __enter__(self) -> "Stream":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def versions(self) -> list[str | None]:
        return [version for _, version, _ in list(self.answers)]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("swap") / "runs"
    register_forests(root, sizes=(5, 8, 11, 14, 17))
    return root


def tamper(root, version: int) -> None:
    import tracker
    path = tracker.Client(root).resolve_models_uri(f"models:/{NAME}/{version}") / "model.skops"
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes() + b"\0")


def test_a_stage_change_during_a_stream_of_requests_fails_none_and_switches_the_version(registry):
    import tracker
    client = tracker.Client(registry)
    X, _ = iris()
    rows = X.iloc[40:60]
    with start_server(f"models:/{NAME}/Production", tracking_dir=registry, timeout=300) as server:
        assert server.metadata()["follows"] == {"stage": "Production"}
        with Stream(server, split_body(rows)) as stream:
            wait_for(lambda: len(stream.answers) >= 20 or stream.errors, what="requests answered by version 1")
            changed = time.monotonic()
            client.transition_model_version_stage(NAME, 2, "Production", archive_existing_versions=True)
            wait_for(lambda: "2" in stream.versions() or stream.errors, timeout=60, what="version 2 answering")
            switched = time.monotonic() - changed
            seen = len(stream.answers)
            wait_for(lambda: len(stream.answers) >= seen + 20 or stream.errors, what="more answers")
        assert stream.errors == []
        assert all(status == 200 for status, _, _ in stream.answers)
        versions = stream.versions()
        first_new = versions.index("2")
        assert set(versions[:first_new]) == {"1"} and set(versions[first_new:]) == {"2"}  # one clean switch
        assert switched <= SWAP_DEADLINE_S, f"switched after {switched:.2f} s"
        by_version = {v: p for _, v, p in stream.answers}
        assert by_version["1"] == local_model(registry, 1).predict(rows).tolist()
        assert by_version["2"] == local_model(registry, 2).predict(rows).tolist()
        meta = server.metadata()
        assert (meta["version"], meta["stage"], meta["swaps"], meta["swap_error"]) == (2, "Production", 1, None)

        # a tampered version moved to Production is refused; version 2 keeps answering
        tamper(registry, 3)
        client.transition_model_version_stage(NAME, 3, "Production", archive_existing_versions=True)
        meta = wait_for(lambda: (m := server.metadata())["swap_error"] and m, timeout=60, what="the refusal")
        assert "version 3" in meta["swap_error"] and "has changed" in meta["swap_error"]
        assert meta["version"] == 2 and meta["stage"] == "Archived"  # what the registry says of it now
        reply = server.invoke(split_body(rows))
        assert reply.status == 200 and reply.headers["x-model-version"] == "2"
        assert "version 3" in server.log_text() and "has changed" in server.log_text()

        # a stage left empty keeps the last version serving, and says so
        client.transition_model_version_stage(NAME, 3, "Archived")
        wait_for(lambda: "names no version now" in (server.metadata()["swap_error"] or ""), timeout=60,
                 what="the empty stage noticed")
        assert server.invoke(split_body(rows)).headers["x-model-version"] == "2"


def test_an_alias_is_followed_too(registry):
    import tracker
    client = tracker.Client(registry)
    client.set_registered_model_alias(NAME, "champion", 1)
    with start_server(f"models:/{NAME}@champion", tracking_dir=registry, timeout=300) as server:
        assert server.invoke(split_body(iris()[0].iloc[:1])).headers["x-model-version"] == "1"
        client.set_registered_model_alias(NAME, "champion", 4)
        wait_for(lambda: server.invoke(split_body(iris()[0].iloc[:1])).headers["x-model-version"] == "4",
                 timeout=60, what="version 4 answering")
        meta = server.metadata()
        assert meta["aliases"] == ["champion"] and meta["follows"] == {"alias": "champion"}


def test_a_tampered_version_is_refused_at_start(registry):
    tamper(registry, 5)
    with pytest.raises(ServerStartError, match="model.skops has changed"):
        start_server(f"models:/{NAME}/5", tracking_dir=registry, timeout=300)

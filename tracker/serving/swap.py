"""The model a server answers with, swapped in place when the stage or alias it follows moves.

Every request reads ``holder.current`` once and answers with that model to the end, so a swap (one
attribute assignment, after the new version is loaded and verified beside the old one) never fails or
drops a request. A thread asks the registry for its change token (``registry_changed_token``: one
indexed query, the same signal the app's registry panel polls) every ``poll_s`` seconds; when it moves,
the URI is resolved again and a different version is loaded. A version that fails to load (tampered,
untrusted, unreadable) is logged and kept out, and the old one keeps serving.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .served import ServedModel, Target

log = logging.getLogger("tracker.serving")
POLL_S = 0.5


class Stats:
    """Counters of ``/invocations`` requests, updated from the event loop's thread only."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self.requests = self.client_errors = self.server_errors = 0
        self.last_latency_ms: float | None = None
        self.total_latency_ms = 0.0

    def record(self, status: int, seconds: float) -> None:
        self.requests += 1
        if 400 <= status < 500:
            self.client_errors += 1
        elif status >= 500:
            self.server_errors += 1
        self.last_latency_ms = seconds * 1000.0
        self.total_latency_ms += self.last_latency_ms

    def to_dict(self) -> dict[str, Any]:
        mean = self.total_latency_ms / self.requests if self.requests else None
        return {"requests": self.requests, "client_errors": self.client_errors, "server_errors": self.server_errors,
                "last_latency_ms": _round(self.last_latency_ms), "mean_latency_ms": _round(mean),
                "uptime_s": round(time.time() - self.started_at, 3)}


class ModelHolder:
    """The served model of one server process, and the thread that follows its stage or alias."""

    def __init__(self, target: Target, current: ServedModel, poll_s: float = POLL_S, token: Any = None) -> None:
        self.target, self.current, self.poll_s = target, current, poll_s
        self._token = token  # the registry's change token read before ``current`` was resolved
        self.stats = Stats()
        self.swaps = 0
        self.last_error: str | None = None  # why the version the URI names now is not the one serving
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one re-resolve at a time

    @classmethod
    def load(cls, target: Target, poll_s: float = POLL_S) -> "ModelHolder":
        """Load what ``target`` names now; raises (not found, tampered, untrusted) so a server never starts
        without a model."""
        token = target.client().registry_changed_token() if target.follows is not None else None
        return cls(target, target.load(), poll_s, token)

    def start_following(self) -> None:
        """Start the thread that follows a stage or alias (nothing to follow for a fixed version or path)."""
        if self.target.follows is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._follow, name="tracker-serving-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _follow(self) -> None:
        client = self.target.client()
        while not self._stop.is_set():
            try:
                now = client.registry_changed_token()
                if now != self._token:
                    self.check()
                    self._token = now
            except Exception as e:  # noqa: BLE001 - the server keeps serving what it has; the next poll retries
                log.warning("could not read the registry to follow %s: %s", self.target.uri, e)
            self._stop.wait(self.poll_s)

    def check(self) -> bool:
        """Resolve the URI again and swap to the version it names if that differs; True when swapped.
        Errors are logged and kept in ``last_error``; the current model keeps serving."""
        with self._lock:
            current = self.current
            try:
                version = self.target.resolve()
            except Exception as e:  # noqa: BLE001 - e.g. the stage was emptied: keep serving the last version
                self._fail(f"{self.target.uri} names no version now ({e}); still serving version {current.label}")
                return False
            finally:
                self._refresh(current)
            if version is None:
                return False
            if version.version == current.version:
                self.last_error = None
                return False
            try:
                new = self.target.load(version)
            except Exception as e:  # noqa: BLE001 - any failure to load keeps the old version serving
                self._fail(f"version {version.version} of {version.name!r} was not loaded ({type(e).__name__}: "
                           f"{e}); still serving version {current.label}")
                return False
            self.current = new
            self.swaps += 1
            self.last_error = None
            log.info("%s now serves version %s (was %s; loaded and verified in %.3f s)", self.target.uri,
                     new.label, current.label, new.load_seconds)
            return True

    def _refresh(self, current: ServedModel) -> None:
        """Keep what /metadata says of the serving version (its stage, its aliases) as the registry has it."""
        if current.version is None or current.name is None:
            return
        try:
            version = self.target.client().get_model_version(current.name, current.version)
        except Exception as e:  # noqa: BLE001 - deleted, or the registry unreadable: the last known state stays
            log.warning("could not read version %s of %r: %s", current.version, current.name, e)
            return
        state = (version.current_stage, tuple(version.aliases))
        if state != (current.stage, current.aliases) and self.current is current:
            self.current = current.with_registry_state(*state)

    def _fail(self, message: str) -> None:
        if message != self.last_error:
            log.error("%s", message)
        self.last_error = message

    def metadata(self) -> dict[str, Any]:
        current = self.current
        return {**current.describe(), "served_uri": self.target.uri, "follows": self.target.follows,
                "swaps": self.swaps, "swap_error": self.last_error}


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None

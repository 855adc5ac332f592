"""Hearing about changes other processes and machines make to a PostgreSQL registry: LISTEN/NOTIFY.

Every committed write to a PostgreSQL registry sends ``pg_notify(NOTIFY_CHANNEL, <model name or ''>)``
(``db.notify``); a ``Listener`` holds a connection of its own (autocommit, as every LISTEN must) that
listens on that channel. Nothing queries the database while waiting: ``wait(timeout)`` blocks in ``select()`` on the
connection's socket, so a loop can be stopped between waits, and an event loop can watch ``fileno()``.

    stop = threading.Event()
    follow(connect_params(registry.db), on_change=print, stop=stop)  # names, [""] after each (re)connection

``follow`` reconnects when the server goes away (with a growing pause, never giving up) and calls
``on_change([""])`` after every connection: what happened while nobody listened is unknown.
SQLite has no such thing; its readers compare ``registry_changed_token()`` now and then.
"""
from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from .db import NOTIFY_CHANNEL as CHANNEL

log = logging.getLogger(__name__)

# A LISTEN connection is idle for hours: without keepalives a server machine that vanished (no
# reset sent) would go unnoticed until the operating system gave up, which takes hours.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
Params = dict[str, Any]


class ListenerLost(ConnectionError):
    """The listening connection could not be made, or the server went away."""


def connect_params(db_or_url: Any) -> Params | None:
    """libpq connection parameters for a registry's database (a peewee database or a URL) when it is
    PostgreSQL; None for anything else (SQLite)."""
    import peewee as pw
    if isinstance(db_or_url, str):
        from playhouse.db_url import parse, schemes
        kind = schemes.get(urlparse(db_or_url).scheme)
        if kind is None or not issubclass(kind, pw.PostgresqlDatabase):
            return None
        params = parse(db_or_url)
        database = params.pop("database")
    elif isinstance(db_or_url, pw.PostgresqlDatabase):
        database, params = db_or_url.database, dict(db_or_url.connect_params)
    else:
        return None
    return {"dbname": database, **{k: v for k, v in params.items() if v is not None}}


class Listener:
    """One LISTEN connection. ``open()``, then ``wait(timeout)`` or ``take()`` when ``fileno()`` is
    readable; both return the model names announced since (``ListenerLost`` once the server is gone)."""

    def __init__(self, params: Params, channel: str = CHANNEL, connect_timeout: float = 5.0) -> None:
        self.params, self.channel, self.connect_timeout = dict(params), channel, connect_timeout
        self._conn: Any = None

    def __enter__(self) -> "Listener":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def open(self, stop: threading.Event | None = None) -> None:
        """Connect and LISTEN. Asynchronous, so that ``stop`` ends it as promptly as a wait."""
        import psycopg2
        self.close()
        deadline = time.monotonic() + self.connect_timeout
        try:
            conn = psycopg2.connect(**{**_KEEPALIVES, **self.params}, async_=1)
        except psycopg2.Error as e:
            raise ListenerLost(_first_line(e)) from None
        try:
            self._ready(conn, deadline, stop)
            cursor = conn.cursor()  # kept: an asynchronous query fails once its cursor is collected
            cursor.execute('LISTEN "%s"' % self.channel.replace('"', '""'))
            self._ready(conn, deadline, stop)
            cursor.close()
        except psycopg2.Error as e:
            conn.close()
            raise ListenerLost(_first_line(e)) from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    @staticmethod
    def _ready(conn: Any, deadline: float, stop: threading.Event | None) -> None:
        import psycopg2.extensions as ext
        while True:
            state = conn.poll()
            if state == ext.POLL_OK:
                return
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                raise ListenerLost("timed out connecting" if left <= 0 else "stopped")
            waiting = [conn.fileno()]
            if state == ext.POLL_READ:
                select.select(waiting, [], [], min(left, 0.25))
            else:
                select.select([], waiting, [], min(left, 0.25))

    def fileno(self) -> int:
        if not self.connected:
            raise ListenerLost("not connected")
        return self._conn.fileno()

    def take(self) -> list[str]:
        """What arrived, without blocking: each model name once, "" for "something, unknown what"."""
        import psycopg2
        conn = self._conn
        if conn is None or conn.closed:
            raise ListenerLost("not connected")
        try:
            conn.poll()
        except psycopg2.Error as e:
            self.close()
            raise ListenerLost(_first_line(e)) from None
        if conn.closed:  # the server said goodbye (shut down, or ended this session) without an error
            self.close()
            raise ListenerLost("the server closed the connection")
        names = [n.payload for n in conn.notifies if n.channel == self.channel]
        del conn.notifies[:]
        return list(dict.fromkeys(names))

    def wait(self, timeout: float) -> list[str]:
        """Up to ``timeout`` seconds for announcements; [] when none came."""
        if self._conn is not None and self._conn.notifies:
            return self.take()
        try:
            readable, _, _ = select.select([self.fileno()], [], [], timeout)
        except (OSError, ValueError) as e:  # the socket was closed under us
            self.close()
            raise ListenerLost(str(e)) from None
        return self.take() if readable else []

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a connection the server already dropped
                pass


def follow(params: Params, on_change: Callable[[list[str]], None], stop: threading.Event,
           timeout: float = 0.5, on_state: Callable[[bool, str], None] | None = None,
           retry: tuple[float, float] = (0.5, 10.0)) -> None:
    """Call ``on_change(names)`` as announcements arrive, until ``stop`` is set.

    Reconnects whenever the connection cannot be made or is lost, waiting ``retry[0]`` seconds at
    first, doubling up to ``retry[1]``; ``on_state(connected, detail)`` reports each change of state.
    After every connection ``on_change([""])``: changes made while not listening were not heard.
    Callbacks run on the calling thread; what they raise is logged, and following goes on.
    """
    delay, connected = retry[0], None

    def report(state: bool, detail: str) -> None:
        nonlocal connected
        if state != connected and on_state is not None:
            _call(on_state, state, detail)
        connected = state

    while not stop.is_set():
        listener = Listener(params, connect_timeout=max(timeout, 5.0))
        try:
            listener.open(stop)
        except ListenerLost as e:
            if not stop.is_set():
                report(False, str(e))
                stop.wait(delay)
                delay = min(delay * 2, retry[1])
            continue
        delay = retry[0]
        report(True, "")
        _call(on_change, [""])
        try:
            while not stop.is_set():
                names = listener.wait(timeout)
                if names and not stop.is_set():
                    _call(on_change, names)
        except ListenerLost as e:
            report(False, str(e))
        finally:
            listener.close()


def _call(callback: Callable[..., None], *args: Any) -> None:
    try:
        callback(*args)
    except Exception:  # a listener's callback failing must not end the listening (logged)
        log.exception("registry change callback failed")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]

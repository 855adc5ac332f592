"""Run the scoring server in this process: what ``tracker models serve`` does.

The model is loaded (and verified) before anything listens, so a server that answers has a model.
The socket is bound here, so ``port=0`` picks a free port and the ready line names it; with
``--json`` that line is one JSON object on stdout (``tracker.serving.start_server`` reads it).
``parent_pid``: the server stops by itself when that process is gone, so a crashed app never
leaves a server running.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..model_trust import Trust
from . import array_input
from .served import Target
from .swap import POLL_S, ModelHolder

EXTRA_HINT = "pip install 'tracker[serve]'"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class ServeExtraMissing(ImportError):
    """uvicorn or Starlette is not installed: the ``serve`` extra."""


@dataclass
class ServeOptions:
    uri: str
    tracking_dir: Path
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    trust: Trust = field(default_factory=Trust)
    max_body_bytes: int = 32 * 1024 * 1024
    poll_s: float = POLL_S
    json_ready: bool = False
    parent_pid: int | None = None


def require_extra() -> None:
    """Raise ``ServeExtraMissing`` naming the extra to install when uvicorn or Starlette cannot be imported."""
    missing = []
    for name in ("uvicorn", "starlette"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ServeExtraMissing(f"serving a model needs {' and '.join(missing)}, the serve extra: {EXTRA_HINT}")


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (0: a free port), not listening yet; the error says which address
    is taken. Bound before the model is loaded, so a taken port is reported at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # With the protocol named, asyncio turns Nagle's algorithm off on each accepted connection (it checks
    # the socket's proto); the option on the listening socket is inherited where the system allows. Without
    # it the response body, written after its headers, waited for the client's delayed ACK: 40 ms a request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if os.name != "nt":  # on Windows this would let two servers share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.set_inheritable(True)
    return sock


def serve(options: ServeOptions) -> int:
    """Serve until stopped (SIGINT, SIGTERM, or the parent process gone); returns the exit status."""
    require_extra()
    import uvicorn

    from .asgi import OPTIONS_ENV, app_from_environment, build_app
    configure_logging()
    array_input.quiet_feature_names()
    target = Target(options.uri, options.tracking_dir, options.trust)
    sock = bind(options.host, options.port)
    try:
        holder = ModelHolder.load(target, options.poll_s)  # raises before listening: no server without a model
    except BaseException:
        sock.close()
        raise
    sock.listen(2048)  # connections queue from here until uvicorn accepts them
    host, port = sock.getsockname()[:2]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    common = dict(log_config=None, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30,
                  timeout_graceful_shutdown=5)
    if options.workers > 1:
        os.environ[OPTIONS_ENV] = json.dumps({
            "uri": options.uri, "tracking_dir": str(options.tracking_dir), "trusted": list(options.trust.types),
            "trust_code": options.trust.code, "poll_s": options.poll_s, "max_body_bytes": options.max_body_bytes})
        from uvicorn.supervisors import Multiprocess
        config = uvicorn.Config(f"{app_from_environment.__module__}:app_from_environment", factory=True,
                                workers=options.workers, **common)
        runner = Multiprocess(config, sockets=[sock])
        stop = runner.should_exit.set
        run = runner.run
    else:
        server = uvicorn.Server(uvicorn.Config(build_app(holder, options.max_body_bytes), **common))

        def stop() -> None:
            server.should_exit = True

        def run() -> None:
            server.run(sockets=[sock])
    _announce(options, holder, url)
    if options.parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(options.parent_pid, stop), daemon=True,
                         name="tracker-serving-parent").start()
    try:
        run()
    finally:
        holder.stop()
        sock.close()
    return 0


def _announce(options: ServeOptions, holder: ModelHolder, url: str) -> None:
    served = holder.current
    if options.json_ready:
        print(json.dumps({"url": url, "pid": os.getpid(), "model_uri": options.uri, "version": served.version,
                          "label": served.label, "workers": options.workers}), flush=True)
    else:
        what = f"{served.name!r} version {served.version}" if served.version is not None else served.path
        follows = holder.target.follows
        also = f", following {next(iter(follows))} {next(iter(follows.values()))}" if follows else ""
        print(f"Serving {options.uri} ({what}{also}) at {url}  (POST {url}/invocations; Ctrl+C stops)", flush=True)
    if options.host not in LOOPBACK:
        logging.getLogger("tracker.serving").warning(
            "listening on %s: anyone who can reach this machine on that address can call the model", options.host)


def _exit_with_parent(pid: int, stop) -> None:
    import psutil
    try:
        parent = psutil.Process(pid)
        created = parent.create_time()
    except psutil.Error:
        stop()
        return
    while True:
        try:
            gone = not parent.is_running() or parent.create_time() != created
        except psutil.Error:
            gone = True
        if gone:
            logging.getLogger("tracker.serving").warning("the process that started this server (%d) is gone: "
                                                         "stopping", pid)
            stop()
            return
        threading.Event().wait(1.0)


def configure_logging() -> None:
    """Log lines on stderr; this runs in the server's own process (the CLI), never in a caller's."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("tracker.serving", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
        logger.propagate = False
    logging.getLogger("tracker.serving").setLevel(logging.INFO)

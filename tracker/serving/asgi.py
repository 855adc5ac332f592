"""The scoring server's ASGI app (Starlette): MLflow's endpoints, plus ``/metadata`` and ``/stats``.

    GET  /ping, /health   200 once the model is loaded (it is loaded before the server listens)
    GET  /version         this library's version
    POST /invocations     JSON (dataframe_split, dataframe_records, instances, inputs) or text/csv;
                          {"predictions": [...]}, with X-Model-Version naming the version that answered
    GET  /metadata        name, version, stage, aliases, run id, git commit, sha256 of the served files
    GET  /stats           request counts and latencies of this process

Errors are JSON as MLflow writes them (``{"error_code": ..., "message": ...}``): 4xx for a request
the server refuses, 500 when the model's predict raised. Starlette is imported inside ``build_app``,
so this module imports without the ``serve`` extra.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from . import array_input
from .parsing import BadRequest, encode_predictions, parse_request
from .swap import ModelHolder

log = logging.getLogger("tracker.serving")
MAX_BODY_BYTES = 32 * 1024 * 1024
# A small request to a scikit-learn model is answered on the event loop's thread: predicting it takes
# about a millisecond, less than handing it to a worker thread and back costs on a busy machine. Larger
# requests, and custom models (whose predict may take any time), go to a thread so /health still answers.
INLINE_BYTES = 64 * 1024
OPTIONS_ENV = "TRACKER_SERVE_OPTIONS"  # how each worker process of --workers N learns what to serve


def predict(holder_model: Any, body: bytes, content_type: str | None) -> bytes:
    """Parse, check and predict one request with one loaded model (``ServedModel``); raises BadRequest."""
    model = holder_model.model
    if holder_model.array_columns is not None:
        rows = array_input.plain_rows(body, content_type, holder_model.array_columns)
        if rows is not None:
            return encode_predictions(model.predict(rows))
    data, params = parse_request(body, content_type, holder_model.schema, model.get_raw_model())
    return encode_predictions(model.predict(data, params) if params else model.predict(data))


def build_app(holder: ModelHolder, max_body_bytes: int = MAX_BODY_BYTES) -> Any:
    """The Starlette app serving ``holder``'s model; the lifespan starts and stops following the registry."""
    import contextlib

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route

    from .. import models

    version_text = models.environment_versions()["tracker"]

    def json_response(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(doc, default=str), status, headers, media_type="application/json")

    def error(status: int, code: str, message: str, label: str | None = None) -> Response:
        return json_response({"error_code": code, "message": message}, status,
                             {"X-Model-Version": label} if label else None)

    async def ping(request: Any) -> Response:
        return Response("\n", 200, media_type="application/json")

    async def version(request: Any) -> Response:
        return Response(version_text, 200, media_type="application/json")

    async def metadata(request: Any) -> Response:
        return json_response(holder.metadata(), headers={"X-Model-Version": holder.current.label})

    async def stats(request: Any) -> Response:
        return json_response({**holder.stats.to_dict(), "version": holder.current.label, "swaps": holder.swaps,
                              "pid": os.getpid()})

    async def invocations(request: Any) -> Response:
        started = time.perf_counter()
        served = holder.current  # this request is answered by this model, whatever is swapped in meanwhile
        try:
            body = await read_body(request, max_body_bytes)
            content_type = request.headers.get("content-type")
            if len(body) <= INLINE_BYTES and served.flavor == "sklearn":
                content = predict(served, body, content_type)
            else:
                content = await run_in_threadpool(predict, served, body, content_type)
            response = Response(content, 200, {"X-Model-Version": served.label}, media_type="application/json")
        except BadRequest as e:
            response = error(e.status, e.code, str(e), served.label)
        except Exception as e:  # the model's own failure (logged): a 500 naming it, and the server goes on
            log.exception("predict failed (version %s)", served.label)
            response = error(500, "INTERNAL_ERROR", f"the model's predict raised {type(e).__name__}: {e}",
                             served.label)
        holder.stats.record(response.status_code, time.perf_counter() - started)
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        holder.start_following()
        try:
            yield
        finally:
            holder.stop()

    routes = [Route("/ping", ping), Route("/health", ping), Route("/version", version),
              Route("/metadata", metadata), Route("/stats", stats),
              Route("/invocations", invocations, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


async def read_body(request: Any, limit: int) -> bytes:
    """The request body, refused with a 413 as soon as it is known to be over ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise BadRequest(f"Content-Length {length!r} is not a number")
        if int(length) > limit:
            raise _too_large(int(length), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> BadRequest:
    return BadRequest(f"the request body is {size:,} bytes or more; the limit is {limit:,} bytes "
                      f"({limit / 2**20:g} MiB): send fewer rows per request", 413, "REQUEST_TOO_LARGE")


def app_from_environment() -> Any:
    """The app of one worker process (``--workers N``): what to serve comes from ``$TRACKER_SERVE_OPTIONS``."""
    from pathlib import Path

    from ..model_trust import Trust
    from .runner import configure_logging
    from .served import Target
    configure_logging()
    array_input.quiet_feature_names()
    options = json.loads(os.environ[OPTIONS_ENV])
    target = Target(options["uri"], Path(options["tracking_dir"]),
                    Trust(tuple(options["trusted"]), bool(options["trust_code"])))
    return build_app(ModelHolder.load(target, options["poll_s"]), options["max_body_bytes"])

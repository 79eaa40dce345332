"""The gateway service: one :class:`~qiopt.services.allocator.Allocator` behind a small HTTP API (extra ``serve``).

``qiopt serve --agents AGENTS.json`` runs it under uvicorn; :func:`create_app` builds the ASGI app (Starlette)
for any other server. JSON in and out:

========================  ==========================================================================
``POST /requests``        a list of requests (or ``{"requests": [...]}``) → ``{"placements": {id: agent}}``
``DELETE /requests``      ``{"ids": [...]}`` → ``{"released": n}``
``DELETE /agents/{id}``   → ``{"placements": {id: agent}}`` (the lost agent's requests, placed again)
``POST /agents``          an agent record → ``201 {"added": id}``
``POST /rebalance``       ``{"migration_cost": c}`` (optional) → ``{"moved": {id: agent}}``
``GET /state``            the allocator's state (:meth:`Allocator.to_dict`)
``GET /health``           ``{"status": "ok", "agents": m, "requests": n}``
``GET /metrics``          Prometheus text: requests by route and status, latency histogram, load per agent
========================  ==========================================================================

A bad request gets ``400 {"error": message}`` naming the field (an unknown agent or request: ``404``). With a
token (:data:`TOKEN_VARIABLE` in the environment, or ``token=``), every call without ``Authorization: Bearer
<token>`` gets ``401``; the token is compared in constant time and never logged or returned. With a state file,
the allocator is restored from it at start and saved to it (atomically) after every change, so a restarted
service loses nothing.

Example (in-process, with Starlette's test client):
    >>> from starlette.testclient import TestClient
    >>> from qiopt.services import Allocator
    >>> client = TestClient(create_app(Allocator([{"id": "a", "capacity": 2}], seed=1)))
    >>> client.post("/requests", json=[{"id": "r1", "demand": 2}]).json()
    {'placements': {'r1': 'a'}}
    >>> client.delete("/agents/zz").status_code
    404
"""

from __future__ import annotations

import hmac
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from qiopt.services.allocator import Allocator

__all__ = ["LATENCY_BUCKETS", "TOKEN_VARIABLE", "create_app", "serve", "warm_up"]

TOKEN_VARIABLE = "QIOPT_SERVE_TOKEN"
"""The environment variable the gateway reads its bearer token from (when no ``token=`` is given)."""
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds (seconds) of the latency histogram in ``/metrics``."""


def _starlette() -> Any:
    try:
        import starlette  # noqa: F401
    except ImportError:
        raise ImportError("the gateway needs the 'serve' extra: python3 -m pip install 'qiopt[serve]'") from None
    from starlette import applications, responses, routing

    return applications, responses, routing


class _Metrics:
    """Counters and a latency histogram per route, rendered as Prometheus text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: dict[tuple[str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.calls[(route, status)] = self.calls.get((route, status), 0) + 1
            counts = self.buckets.setdefault(route, [0] * (len(LATENCY_BUCKETS) + 1))
            for k, bound in enumerate((*LATENCY_BUCKETS, float("inf"))):
                counts[k] += seconds <= bound
            self.sums[route] = self.sums.get(route, 0.0) + seconds

    def render(self, loads: dict[Any, float]) -> str:
        with self._lock:
            lines = ["# HELP qiopt_requests_total HTTP calls by route and status.",
                     "# TYPE qiopt_requests_total counter"]
            lines += [f'qiopt_requests_total{{route="{r}",status="{s}"}} {n}'
                      for (r, s), n in sorted(self.calls.items())]
            lines += ["# HELP qiopt_request_seconds HTTP call latency.", "# TYPE qiopt_request_seconds histogram"]
            for route, counts in sorted(self.buckets.items()):
                for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), counts, strict=True):
                    lines.append(f'qiopt_request_seconds_bucket{{route="{route}",le="{bound}"}} {count}')
                lines += [f'qiopt_request_seconds_sum{{route="{route}"}} {self.sums[route]:.6f}',
                          f'qiopt_request_seconds_count{{route="{route}"}} {counts[-1]}']
        lines += ["# HELP qiopt_agent_load Load of each agent (sum of its live requests' demands).",
                  "# TYPE qiopt_agent_load gauge"]
        lines += [f'qiopt_agent_load{{agent="{_label(a)}"}} {v:g}' for a, v in loads.items()]
        return "\n".join(lines) + "\n"


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def create_app(allocator: Allocator, *, token: str | None = None, state_path: str | os.PathLike[str] | None = None
               ) -> Any:
    """The ASGI app over ``allocator`` (see module). ``token`` defaults to :data:`TOKEN_VARIABLE`'s value (no
    authentication when neither is set, or ``token=""``); ``state_path`` is written after every change."""
    applications, responses, routing = _starlette()
    from starlette.concurrency import run_in_threadpool

    secret = (token if token is not None else os.environ.get(TOKEN_VARIABLE)) or None  # "": no token
    metrics = _Metrics()
    JSONResponse = responses.JSONResponse

    def save() -> None:
        if state_path is not None:
            path = Path(state_path)
            tmp = path.with_name(path.name + ".tmp")
            allocator.save(tmp)
            os.replace(tmp, path)

    def endpoint(route: str, handler: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        async def run(request: Any) -> Any:
            started = time.perf_counter()
            try:
                if secret is not None and not _authorized(request.headers.get("authorization"), secret):
                    response = JSONResponse({"error": "missing or wrong 'Authorization: Bearer <token>' header"},
                                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
                else:
                    response = await handler(request)
            except LookupError as exc:  # an unknown agent or request (UnknownIdError)
                response = JSONResponse({"error": str(exc)}, status_code=404)
            except (ValueError, TypeError) as exc:
                response = JSONResponse({"error": str(exc)}, status_code=400)
            metrics.observe(route, response.status_code, time.perf_counter() - started)
            return response
        return run

    async def body(request: Any) -> Any:
        try:
            return json.loads(await request.body())
        except json.JSONDecodeError as exc:
            raise ValueError(f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None

    async def submit(request: Any) -> Any:
        data = await body(request)
        batch = data.get("requests") if isinstance(data, dict) else data
        if not isinstance(batch, list):
            raise TypeError("POST /requests takes a JSON list of requests, or {\"requests\": [...]}")
        placements = await run_in_threadpool(allocator.submit, batch)
        await run_in_threadpool(save)
        return JSONResponse({"placements": placements})

    async def release(request: Any) -> Any:
        data = await body(request)
        ids = data.get("ids") if isinstance(data, dict) else None
        if not isinstance(ids, list):
            raise TypeError("DELETE /requests takes {\"ids\": [request ids]}")
        await run_in_threadpool(allocator.release, ids)
        await run_in_threadpool(save)
        return JSONResponse({"released": len(ids)})

    async def remove_agent(request: Any) -> Any:
        placements = await run_in_threadpool(allocator.remove_agent, _agent_id(allocator, request))
        await run_in_threadpool(save)
        return JSONResponse({"placements": placements})

    async def add_agent(request: Any) -> Any:
        record = await body(request)
        if not isinstance(record, dict):
            raise TypeError("POST /agents takes one agent record {\"id\", \"capacity\", \"skills\"}")
        await run_in_threadpool(allocator.add_agent, record)
        await run_in_threadpool(save)
        return JSONResponse({"added": record.get("id")}, status_code=201)

    async def rebalance(request: Any) -> Any:
        data = await body(request) if await request.body() else {}
        cost = data.get("migration_cost", 1.0) if isinstance(data, dict) else None
        if cost is None:
            raise TypeError("POST /rebalance takes {\"migration_cost\": number} (or no body: 1.0)")
        moved = await run_in_threadpool(allocator.rebalance, cost)
        await run_in_threadpool(save)
        return JSONResponse({"moved": moved})

    async def state(request: Any) -> Any:
        return JSONResponse(allocator.to_dict())

    async def health(request: Any) -> Any:
        return JSONResponse({"status": "ok", "agents": len(allocator.agents), "requests": len(allocator.assignment)})

    async def metrics_text(request: Any) -> Any:
        return responses.PlainTextResponse(metrics.render(allocator.loads),
                                           media_type="text/plain; version=0.0.4")

    Route = routing.Route
    routes = [Route("/requests", endpoint("/requests", submit), methods=["POST"]),
              Route("/requests", endpoint("/requests", release), methods=["DELETE"]),
              Route("/agents/{agent_id}", endpoint("/agents/{id}", remove_agent), methods=["DELETE"]),
              Route("/agents", endpoint("/agents", add_agent), methods=["POST"]),
              Route("/rebalance", endpoint("/rebalance", rebalance), methods=["POST"]),
              Route("/state", endpoint("/state", state), methods=["GET"]),
              Route("/health", endpoint("/health", health), methods=["GET"]),
              Route("/metrics", endpoint("/metrics", metrics_text), methods=["GET"])]
    return applications.Starlette(routes=routes)


def _agent_id(allocator: Allocator, request: Any) -> Any:
    """The agent a path names: its text, or the integer it spells when the agents have integer ids."""
    raw = request.path_params["agent_id"]
    ids = {a["id"] for a in allocator.agents}
    if raw not in ids and raw.lstrip("-").isdigit() and int(raw) in ids:
        return int(raw)
    return raw


def _authorized(header: str | None, secret: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), secret.encode())


def warm_up() -> None:
    """Compile the engine's kernels on a throwaway two-agent allocator, collect, then :func:`gc.freeze` what
    is alive (modules, compiled kernels, the served allocator), so later collections only scan what requests
    create. Call it once in a long-running service before taking traffic."""
    import gc

    Allocator([{"id": "a", "capacity": 2}, {"id": "b", "capacity": 2}], seed=0, time_budget=0.01).submit(
        [{"id": f"r{i}", "demand": 1, "costs": {"a": i, "b": 2 - i}} for i in range(3)])
    gc.collect()
    gc.freeze()


def serve(allocator: Allocator, *, host: str = "127.0.0.1", port: int = 8000,
          state_path: str | os.PathLike[str] | None = None) -> None:
    """Run the app under uvicorn until interrupted (binds ``127.0.0.1`` unless told otherwise; access logs
    off, so no header is ever logged). Before serving, the engine's kernels are compiled on a throwaway
    allocator and the objects alive are frozen out of the garbage collector (:func:`gc.freeze`): a full
    collection over them took ~100 ms, once every few dozen batches, the whole p99 of ``submit``."""
    try:
        import uvicorn
    except ImportError:
        raise ImportError("the gateway needs the 'serve' extra: python3 -m pip install 'qiopt[serve]'") from None
    warm_up()
    uvicorn.run(create_app(allocator, state_path=state_path), host=host, port=port, access_log=False,
                log_level="warning")

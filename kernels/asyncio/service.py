"""A real HTTP service on 127.0.0.1 with latency and failures on demand, for the asyncio chapter.

:func:`local_service` starts it in a separate process (an :mod:`aiohttp` server on a
free port) and stops it, process joined, when the block ends.

Endpoints (all answer JSON):

``GET /item/{i}?delay=S``
    Waits ``S`` seconds (default: the service's latency), then answers ``{"item": i}``.
``GET /flaky/{i}?failures=K``
    Answers 503 to the first ``K`` requests for item ``i``, then succeeds: a failing
    endpoint that retries can get through.
``GET /stats``
    Requests served, the most ever in progress at once, and attempts per flaky item;
    ``POST /stats/reset`` clears them.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from aiohttp import web

# Seconds the service may take to start (a fresh interpreter importing aiohttp), and to
# stop before it is killed.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass
class _State:
    latency: float
    served: int = 0
    in_progress: int = 0
    most_in_progress: int = 0
    attempts: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"served": self.served, "most_in_progress": self.most_in_progress,
                "flaky_attempts": {str(k): v for k, v in sorted(self.attempts.items())},
                }  # fmt: skip


def _delay(request: web.Request, default: float) -> float:
    try:
        delay = float(request.query.get("delay", default))
    except ValueError:
        raise web.HTTPBadRequest(text="delay must be a number of seconds") from None
    if not 0 <= delay <= 600:
        raise web.HTTPBadRequest(text="delay must be between 0 and 600 seconds")
    return delay


def _app(state: _State) -> web.Application:
    @web.middleware
    async def count(request: web.Request, handler):
        if request.path.startswith("/stats"):
            return await handler(request)
        state.in_progress += 1
        state.most_in_progress = max(state.most_in_progress, state.in_progress)
        try:
            return await handler(request)
        finally:
            state.in_progress -= 1
            state.served += 1

    async def item(request: web.Request) -> web.Response:
        await asyncio.sleep(_delay(request, state.latency))
        return web.json_response({"item": int(request.match_info["i"])})

    async def flaky(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        state.attempts[i] += 1
        await asyncio.sleep(_delay(request, state.latency))
        if state.attempts[i] <= int(request.query.get("failures", 1)):
            return web.json_response({"item": i, "error": "try again"}, status=503)
        return web.json_response({"item": i, "attempt": state.attempts[i]})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(state.as_dict())

    async def reset(request: web.Request) -> web.Response:
        state.served = state.most_in_progress = 0
        state.attempts.clear()
        return web.json_response(state.as_dict())

    app = web.Application(middlewares=[count])
    app.add_routes([
        web.get(r"/item/{i:\d+}", item), web.get(r"/flaky/{i:\d+}", flaky),
        web.get("/stats", stats), web.post("/stats/reset", reset),
    ])  # fmt: skip
    return app


@dataclass
class Service:
    """A running :func:`local_service`: its ``url``, and its counters over HTTP."""

    url: str

    def stats(self) -> dict:
        """Requests served and the most in progress at once, since the last reset."""
        return httpx.get(f"{self.url}/stats", trust_env=False).json()

    def reset(self) -> None:
        """Clear the counters."""
        httpx.post(f"{self.url}/stats/reset", trust_env=False).raise_for_status()


def _serve(latency: float, pipe) -> None:
    """The service process: serve until the parent says stop (or goes away)."""

    async def main() -> None:
        # Requests still waiting at the end (a 30 s delay whose client gave up) are
        # cancelled after a short grace instead of holding the shutdown.
        runner = web.AppRunner(_app(_State(latency)), handle_signals=False, access_log=None,
                               shutdown_timeout=0.5)  # fmt: skip
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        pipe.send(runner.addresses[0][1])  # the free port the OS chose
        stop = asyncio.Event()
        asyncio.get_running_loop().add_reader(pipe.fileno(), stop.set)
        await stop.wait()  # a message or the pipe closing: either way, stop
        await runner.cleanup()

    asyncio.run(main())


@contextlib.contextmanager
def local_service(latency: float = 0.1) -> Iterator[Service]:
    """Serve the endpoints above on ``http://127.0.0.1:<free port>`` until the block ends.

    The service is a separate process (as a real one would be), so it does not share a
    GIL with the client being measured. It is stopped and joined when the block ends.

    Parameters
    ----------
    latency : float
        Seconds every request waits before its answer, unless it asks for its own
        ``delay``.

    Examples
    --------
    >>> with local_service(latency=0.05) as service:
    ...     httpx.get(f"{service.url}/item/3").json()
    {'item': 3}
    """
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not 0 <= latency <= 600:
        raise ValueError(f"latency must be between 0 and 600 seconds, got {latency!r}")
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(float(latency), theirs),
                              name="kernels-slow-service", daemon=True)  # fmt: skip
    process.start()
    theirs.close()
    try:
        if not ours.poll(START_TIMEOUT):
            raise RuntimeError(f"the local service did not start within {START_TIMEOUT} s")
        port = ours.recv()
        yield Service(f"http://127.0.0.1:{port}")
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        ours.close()
        process.join(STOP_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join()

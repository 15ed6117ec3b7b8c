"""Many slow requests, three ways: one after another, threads, and asyncio.

The asyncio client uses :mod:`aiohttp`, the threads :mod:`httpx` (blocking); both keep
connections open between requests. (``httpx``'s async client was several times slower
than ``aiohttp`` at 50 requests in flight here, measured.) Every request ends as
an :class:`Outcome`: ``ok``, ``failed`` (an error answer after every retry) or
``timeout``; nothing waits forever and nothing is dropped.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import matplotlib.pyplot as plt
import pandas as pd

from ..core.errors import require_count
from ..core.figures import footnote

RETRYABLE = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Outcome:
    """How one request ended: ``status`` is ``"ok"``, ``"failed"`` or ``"timeout"``."""

    item: int
    status: str
    attempts: int
    value: Any = None
    error: str = ""


def _backoff(attempt: int, base: float) -> float:
    return base * 2**attempt


async def fetch(
    session: aiohttp.ClientSession, url: str, item: int, *, timeout: float = 5.0,
    retries: int = 3, backoff: float = 0.05,
) -> Outcome:  # fmt: skip
    """GET ``url`` (JSON), retrying errors and timeouts ``retries`` times with backoff."""
    error, status = "", "failed"
    for attempt in range(retries + 1):
        if attempt:
            await asyncio.sleep(_backoff(attempt - 1, backoff))
        try:
            async with asyncio.timeout(timeout), session.get(url) as response:
                code = response.status
                value = await response.json() if code < 400 else None
        except TimeoutError:
            error, status = f"no answer within {timeout:g} s", "timeout"
            continue
        except aiohttp.ClientError as exc:
            error, status = f"{type(exc).__name__}: {exc}", "failed"
            continue
        if code in RETRYABLE:
            error, status = f"HTTP {code}", "failed"
            continue
        if code >= 400:  # 4xx: asking again will not help
            return Outcome(item, "failed", attempt + 1, error=f"HTTP {code}")
        return Outcome(item, "ok", attempt + 1, value)
    return Outcome(item, status, retries + 1, error=error)


def fetch_sync(
    client: httpx.Client, url: str, item: int, *, timeout: float = 5.0, retries: int = 3,
    backoff: float = 0.05,
) -> Outcome:  # fmt: skip
    """:func:`fetch` for threads: a blocking GET with the same retries and outcomes."""
    error, status = "", "failed"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(_backoff(attempt - 1, backoff))
        try:
            response = client.get(url, timeout=timeout)
        except httpx.TimeoutException:
            error, status = f"no answer within {timeout:g} s", "timeout"
            continue
        except httpx.TransportError as exc:
            error, status = f"{type(exc).__name__}: {exc}", "failed"
            continue
        if response.status_code in RETRYABLE:
            error, status = f"HTTP {response.status_code}", "failed"
            continue
        if response.is_error:
            return Outcome(item, "failed", attempt + 1, error=f"HTTP {response.status_code}")
        return Outcome(item, "ok", attempt + 1, response.json())
    return Outcome(item, status, retries + 1, error=error)


def _url(base: str, path: str, item: int, query: str) -> str:
    return f"{base}/{path}/{item}" + (f"?{query}" if query else "")


async def fetch_all(
    base: str, items: Iterable[int], concurrency: int = 10, *, path: str = "item",
    query: str = "", **fetch_options: Any,
) -> list[Outcome]:  # fmt: skip
    """Fetch every item with at most ``concurrency`` requests in flight (asyncio).

    A :class:`asyncio.Semaphore` limits the requests in flight; a :class:`asyncio.TaskGroup`
    runs them and waits for all. Outcomes are in the order of ``items``.
    """
    require_count("concurrency", concurrency)
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(item: int) -> Outcome:
            async with limit:
                return await fetch(session, _url(base, path, item, query), item, **fetch_options)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in items]
    return [task.result() for task in tasks]


def fetch_all_threads(
    base: str, items: Iterable[int], workers: int = 10, *, path: str = "item",
    query: str = "", **fetch_options: Any,
) -> list[Outcome]:  # fmt: skip
    """Fetch every item with a pool of ``workers`` threads (blocking requests)."""
    require_count("concurrency", workers)
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    with (
        httpx.Client(limits=limits, trust_env=False) as client,
        ThreadPoolExecutor(workers, thread_name_prefix="kernels-fetch") as pool,
    ):
        futures = [
            pool.submit(fetch_sync, client, _url(base, path, i, query), i, **fetch_options)
            for i in items
        ]
        return [f.result() for f in futures]


def fetch_all_sequential(
    base: str, items: Iterable[int], *, path: str = "item", query: str = "",
    **fetch_options: Any,
) -> list[Outcome]:  # fmt: skip
    """Fetch every item, one request at a time."""
    with httpx.Client(trust_env=False) as client:
        return [fetch_sync(client, _url(base, path, i, query), i, **fetch_options) for i in items]


def run_coroutine(make: Callable[..., Awaitable], *args: Any, **kwargs: Any) -> Any:
    """Run ``make(*args, **kwargs)`` to completion in a new event loop, in a new thread.

    Works where ``asyncio.run`` does not: inside Jupyter, whose own loop is already
    running in this thread. The thread is joined before this returns.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make(*args, **kwargs))
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="kernels-coroutine")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    """How many requests ended each way, and the attempts they took."""
    counts = {"ok": 0, "failed": 0, "timeout": 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    counts["attempts"] = sum(o.attempts for o in outcomes)
    return counts


def measure_throughput(
    base: str, concurrency: Iterable[int], requests: int = 200, delay: float | None = None
) -> pd.DataFrame:
    """Requests per second for threads and for asyncio at each concurrency level.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``concurrency``, ``seconds``, ``requests_per_s``, ``ok``.
    """
    query = f"delay={delay}" if delay is not None else ""
    rows = []
    for level in concurrency:
        runs = {
            "threads": lambda level=level: fetch_all_threads(base, range(requests), level,
                                                             query=query),
            "asyncio": lambda level=level: run_coroutine(fetch_all, base, range(requests),
                                                         level, query=query),
        }  # fmt: skip
        for method, run in runs.items():
            start = time.perf_counter()
            outcomes = run()
            seconds = time.perf_counter() - start
            rows.append({"method": method, "concurrency": level, "seconds": seconds,
                         "requests_per_s": requests / seconds,
                         "ok": summary(outcomes)["ok"]})  # fmt: skip
    return pd.DataFrame(rows)


def plot_throughput(df: pd.DataFrame, latency: float):
    """Requests per second against concurrency, with the ideal ``concurrency / latency``."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    levels = sorted(df["concurrency"].unique())
    ax.loglog(levels, [c / latency for c in levels], "k:", label="ideal: concurrency / latency")
    for method, part in df.groupby("method", sort=False):
        ax.loglog(part["concurrency"], part["requests_per_s"], "o-", label=method)
    ax.set_xlabel("requests in flight at once")
    ax.set_ylabel("requests per second")
    ax.set_title(f"Many requests to a service that takes {latency * 1000:.0f} ms to answer")
    ax.legend()
    footnote(fig, f"{int(df['ok'].iloc[0])} requests per point, local service on 127.0.0.1.")
    return fig

"""Chapter 11, asyncio and threads: waiting for many things at once.

``service.py`` (a local HTTP service with latency and failures), ``demos.py`` (clients
and throughput measurements), ``races.py`` (a race and its lock) and ``checks.py``.
"""

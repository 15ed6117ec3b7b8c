"""Chapter 04, ``joblib``: ``Parallel``/``delayed`` on loky's reusable worker processes.

``backend.py`` (the ``joblib`` backend), ``pool.py`` (loky's workers kept or stopped),
``demos.py`` (memory-mapping against copies, batching, start-up) and ``checks.py``.
"""

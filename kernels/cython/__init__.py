"""Chapter 08, Cython: typed loops compiled ahead of time, OpenMP threads with prange.

``backend.py`` (the ``cython`` and ``cython-parallel`` backends), ``compiled/`` (the
``.pyx`` extension modules), ``demos.py`` (memory bandwidth) and ``checks.py``.
"""

"""Chapter 09, numba: functions compiled when first called, ``prange`` threads.

``backend.py`` (the ``numba`` and ``numba-parallel`` backends), ``compute.py`` (the
jitted kernels) and ``checks.py``.
"""

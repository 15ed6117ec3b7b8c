"""Chapter 02, profiling: find where the time goes, vectorise, then decide what to parallelise.

:mod:`.program` is the slow program the chapter profiles (plain Python, the heat
problem); :mod:`.profilers` runs cProfile, line_profiler, py-spy and tracemalloc on it
and turns their output into tables; :mod:`.vectorised` holds the NumPy and numexpr
versions of its hot step; :mod:`.checks` marks the exercises.
"""

"""Chapter 03, ``multiprocessing``: the standard library's worker processes.

``backend.py`` (the ``multiprocessing`` backend), ``tasks.py`` (task functions a worker
imports by name), ``demos.py`` (the chapter's measurements and plots) and ``checks.py``
(its exercise checkers).
"""

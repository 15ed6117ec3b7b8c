"""Chapter 01, foundations: the serial baselines and threads.

``backend.py`` (the ``python``, ``numpy`` and ``threads`` backends) and ``checks.py``
(the chapter's exercise checkers). Nothing is imported until a module is.
"""

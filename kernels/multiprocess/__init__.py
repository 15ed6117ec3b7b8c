"""Chapter 04, ``multiprocess``: the same API, serialising with ``dill``.

``backend.py`` (the ``multiprocess`` backend), ``pool.py`` (a ``Pool`` that fails instead
of hanging), ``demos.py`` (start-up and serialisation measurements) and ``checks.py``.
"""

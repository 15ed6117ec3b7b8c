"""Chapter 05, dask: task graphs, local schedulers and ``distributed`` clusters.

``backend.py`` (the ``dask`` and ``dask-distributed`` backends), ``graphs.py`` (the task
graphs), ``cluster.py`` (clusters that close with the call), ``demos.py`` and
``checks.py``.
"""

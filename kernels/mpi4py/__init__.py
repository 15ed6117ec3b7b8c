"""Chapter 07, mpi4py: SPMD programs under ``mpiexec``.

``backend.py`` (the ``mpi`` backend), ``launch.py`` (running programs from Python),
``programs/`` (the problems as MPI programs), ``examples/`` (the chapter's scripts) and
``checks.py``.
"""

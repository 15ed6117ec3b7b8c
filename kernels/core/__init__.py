"""The core of :mod:`kernels`: what every chapter and every tool builds on.

It imports only the standard library, NumPy and psutil: the public API
(:mod:`.api`), the registry and the catalogue of every backend (:mod:`.registry`,
:mod:`.catalogue`), parameters (:mod:`.params`), errors (:mod:`.errors`), sizes
(:mod:`.sizes`), timing and benchmarks (:mod:`.timing`, :mod:`.bench`), the laws
(:mod:`.laws`), the machine's facts (:mod:`.machine`), and what several tools share:
pools (:mod:`.pools`), plans (:mod:`.plans`), shared memory (:mod:`.shared_memory`),
subprocesses (:mod:`.subprocesses`), task functions (:mod:`.tasks`), build flags
(:mod:`.buildflags`), the runtime set-up (:mod:`.runtime`), a notebook kernel's exit
(:mod:`.kernel_exit`), what MPICH leaves behind (:mod:`.mpich_leftovers`) and the
checkers' results (:mod:`.checking`).
"""

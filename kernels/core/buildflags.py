"""Compiler flags that decide the compiled kernels' results, defined once.

``setup.py`` (the Cython extensions) and the C baseline (:mod:`kernels.c.baseline`) both
read them, so the ceiling the book measures is built the way the extensions are:

* ``-O3``: full optimisation;
* ``-march=native``: the vector instructions of the machine it is built on (a local
  build, not a wheel to share);
* ``-funroll-loops``: unrolled loops, which gcc then schedules more freely (the C
  Mandelbrot lanes 3% faster with gcc 12 on an AMD EPYC, Zen 4; the same counts);
* ``-ffp-contract=off``: no fused multiply-add, so the compiled Mandelbrot counts equal
  the NumPy reference bit for bit;
* ``-fno-trapping-math``: floating-point operations never trap, so the compiler may
  compute both sides of a lane's "still iterating?" choice and blend them with vector
  instructions (about 10% faster Mandelbrot lanes with gcc 12 on an AMD EPYC); every
  result stays bit for bit the same, since nothing is reordered or fused;
* ``-fopenmp``: OpenMP threads, where the compiler has it.

This module imports nothing but the standard library: ``setup.py`` loads it by path,
before the package or its dependencies are installed.
"""

OPTIMISE = ("-O3", "-march=native", "-funroll-loops", "-ffp-contract=off", "-fno-trapping-math")
OPENMP = "-fopenmp"
C_FLAGS = (*OPTIMISE, OPENMP)

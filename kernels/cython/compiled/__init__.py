"""Cython extension modules, compiled by the package build (see ``setup.py``).

``mandelbrot``, ``heat`` and ``monte_carlo_pi`` each hold a serial kernel and a parallel
one (``prange`` over OpenMP threads); ``openmp`` reports whether the build had OpenMP.
The ``.pyx`` sources ship with the package so that the book can show them.
"""

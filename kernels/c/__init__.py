"""The C baseline: the Mandelbrot kernel as a plain C program with OpenMP (:mod:`.baseline`)."""

"""The problems, each with its exact specification and NumPy reference.

Importing this package registers them in teaching order.
"""

# isort: skip_file
from . import mandelbrot
from . import monte_carlo_pi
from . import heat

__all__ = ["heat", "mandelbrot", "monte_carlo_pi"]

"""A live speedup explorer for notebooks (needs a running kernel)."""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import display

from ..core import api, sizes
from ..core.bench import measure
from ..core.warm import measured_tool_by_tool
from .plot import speedup

# Preselected: one backend per kind (threads, processes, compiled), few enough that the
# plot stays readable and a run takes well under a minute on two cores.
DEFAULT_BACKENDS = ("threads", "multiprocessing", "cython-parallel")

# Seconds each group of backends is run for at least (bench.measure's budget): a
# compiled backend's calls take tens of milliseconds at the "live" sizes, and three runs
# a point gave medians one disturbed run could move. cython-parallel's heat at two
# threads: 0.50 and 0.57 in two runs of the defaults with three runs a point and every
# tool's pools started at once; 0.90 to 0.95 in three with this budget, tool by tool
# (AMD EPYC Zen 4, 2 cores).
BUDGET_S = 1.0


class Explorer:
    """Pick a problem, backends, worker counts and a size; Run measures and redraws.

    The controls are in :attr:`widget`; :meth:`run` is what the Run button calls, and
    :attr:`result` holds the last table measured. The sizes start at the problem's
    "live" preset (where two workers pay). Each chosen tool's pools, clusters, ranks or
    JAX workers are started before the clock runs and reused, one tool at a time
    (:func:`kernels.core.warm.measured_tool_by_tool`), so the plot shows the work; what
    starting them cost is in the table's ``startup_s``. Each point gets ``repeats``
    runs, and more until its group's runs add up to :data:`BUDGET_S` (none are added
    under ``KERNELS_QUICK=1``).
    """

    def __init__(self, problem: str = "mandelbrot", backends=None, max_workers=None):
        api.problems()  # registers everything
        self.problem = w.Dropdown(options=api.problems(), value=problem, description="problem")
        self.backends = w.SelectMultiple(description="backends", rows=5)
        self.max_workers = w.IntSlider(
            value=max_workers or sizes.max_workers(), min=1, max=max(sizes.max_workers(), 8),
            description="max workers",
        )  # fmt: skip
        self.scale = w.FloatLogSlider(
            value=1.0, base=2, min=-3, max=3, step=1, description="size ×",
            tooltip="multiplies the problem's main size parameter",
        )  # fmt: skip
        self.repeat = w.IntSlider(value=sizes.repeats(), min=1, max=7, description="repeats")
        self.button = w.Button(description="Run", button_style="primary", icon="play")
        self.bar = w.IntProgress(min=0, max=1, value=0, description="idle")
        self.output = w.Output()
        self.result = None
        self.problem.observe(lambda _: self._fill_backends(), names="value")
        self._fill_backends(backends)
        self.button.on_click(lambda _: self.run())
        controls = w.VBox([self.problem, self.backends, self.max_workers, self.scale, self.repeat])
        self.widget = w.VBox([w.HBox([controls, w.VBox([self.button, self.bar])]), self.output])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _fill_backends(self, chosen=None) -> None:
        names = api.backends(self.problem.value)
        self.backends.options = names
        self.backends.value = tuple(n for n in (chosen or DEFAULT_BACKENDS) if n in names)

    def params(self) -> dict[str, int]:
        """The problem parameters the size slider selects (main size times the factor)."""
        params = sizes.scaling_params(self.problem.value, "live")
        main = next(iter(params))  # width, samples or n
        params[main] = max(1, round(params[main] * self.scale.value))
        return params

    def run(self):
        """Measure the chosen backends and redraw the plot; returns the table."""
        self.button.disabled = True
        self.bar.description = "running"

        workers = list(range(1, self.max_workers.value + 1))
        problem, params, finished = self.problem.value, self.params(), 0

        def timed(group: list[str]):
            nonlocal finished

            def advance(done: int, total: int, label: str) -> None:
                self.bar.max, self.bar.value = finished + total, finished + done
                self.bar.description = label

            df = measure(problem, group, workers=workers, repeat=self.repeat.value,
                         progress=advance, budget=sizes.budget(BUDGET_S), **params)  # fmt: skip
            finished = self.bar.max
            return df

        try:
            df = measured_tool_by_tool(self.backends.value, workers, timed)
            self.result = df
            self.output.clear_output(wait=True)
            with self.output:
                fig = speedup(df)
                display(fig)
                plt.close(fig)
            self.bar.description = "done"
            return df
        except Exception as exc:
            self.bar.description = "error"
            with self.output:
                print(f"error: {exc}")
            raise
        finally:
            self.button.disabled = False


def explorer(problem: str = "mandelbrot", backends=None, max_workers=None) -> Explorer:
    """The speedup explorer (see :class:`Explorer`); displaying it shows its widget.

    Examples
    --------
    >>> type(explorer("heat")).__name__
    'Explorer'
    """
    return Explorer(problem, backends, max_workers)

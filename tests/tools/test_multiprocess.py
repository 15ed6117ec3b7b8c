"""Chapter 04's helpers: what pickle and dill send, pool start-up, and its checkers.

The answers the checkers are tried with are this module's functions, which spawned
workers import it to load: its heavy imports (nbformat, matplotlib, the conftest) are
made inside the tests that use them, or every worker would pay for them.
"""

from __future__ import annotations

import pickle

import dill
import multiprocess
import numpy as np
import pytest
from checker_cases import assert_checker_contract, case_id

import kernels
from kernels.multiprocess import checks as multiprocess_checks
from kernels.multiprocess import demos as multiprocess_demos


def test_serialisation_measurement_records_what_fails():
    def gen():
        yield 1

    df = multiprocess_demos.measure_serialisation(
        {"lambda": lambda x: x, "generator": gen()}, repeat=1
    )
    row = df.set_index(["object", "library"])
    assert "pickle" in row.loc[("lambda", "pickle"), "error"]
    assert row.loc[("lambda", "dill"), "bytes"] > 0
    assert "generator" in row.loc[("generator", "dill"), "error"]
    import matplotlib.figure

    assert isinstance(multiprocess_demos.plot_serialisation(df), matplotlib.figure.Figure)


def test_pool_startup_measurement():
    df = multiprocess_demos.measure_pool_startup(1, repeat=1)
    assert list(df["library"]) == ["multiprocessing", "multiprocess"]
    assert (df["seconds"] > 0).all()

    # the autouse fixture fails the test if the grandchild were still running


# Right and wrong answers for each checker of the chapter.


def first_that_sends(obj, libraries):
    for name, library in libraries:
        try:
            library.dumps(obj)
        except Exception:
            continue
        return name
    return "neither"


def good_which(obj):
    return first_that_sends(obj, (("pickle", pickle), ("dill", dill)))


class Polynomial:
    def __init__(self, coefficients):
        self.coefficients = coefficients

    def __call__(self, x):
        value = 0.0
        for c in self.coefficients:
            value = value * x + c
        return value


def good_evaluate(coefficients, xs, workers):
    with multiprocess.get_context("spawn").Pool(workers) as pool:
        return pool.map(Polynomial(coefficients), xs)


def good_sweep(seeds, samples, workers):
    def task(seed):
        return seed, kernels.run("monte_carlo_pi", "numpy", samples=samples, seed=seed)

    with multiprocess.get_context("spawn").Pool(workers) as pool:
        return dict(pool.imap_unordered(task, seeds))


def which_dill_first(obj):  # the order reversed: dill can send what pickle can
    return first_that_sends(obj, (("dill", dill), ("pickle", pickle)))


def which_by_type(obj):  # a guess from the type instead of trying
    return "dill" if callable(obj) else "pickle"


def evaluate_serially(coefficients, xs, workers):
    return [Polynomial(coefficients)(x) for x in xs]


def evaluate_on_one_worker(coefficients, xs, workers):  # ignores `workers`
    with multiprocess.get_context("spawn").Pool(1) as pool:
        return pool.map(Polynomial(coefficients), xs)


def evaluate_lowest_power_first(coefficients, xs, workers):
    with multiprocess.get_context("spawn").Pool(workers) as pool:
        return pool.map(Polynomial(coefficients[::-1]), xs)


def sweep_serially(seeds, samples, workers):
    return {s: kernels.run("monte_carlo_pi", "numpy", samples=samples, seed=s) for s in seeds}


def sweep_in_arrival_order(seeds, samples, workers):  # results zipped with the wrong order
    def task(seed):
        return kernels.run("monte_carlo_pi", "numpy", samples=samples, seed=seed)

    with multiprocess.get_context("spawn").Pool(workers) as pool:
        return dict(zip(seeds, sorted(pool.imap_unordered(task, seeds)), strict=True))


def sweep_on_one_worker(seeds, samples, workers):
    return good_sweep(seeds, samples, 1)


CASES = [
    (
        multiprocess_checks.check_needs_dill,
        good_which,
        [lambda obj: "dill", lambda obj: "pickle", which_dill_first, which_by_type],
    ),
    (
        multiprocess_checks.check_closure_map,
        good_evaluate,
        [
            evaluate_serially,
            evaluate_on_one_worker,
            evaluate_lowest_power_first,
            lambda c, xs, w: list(xs),
        ],
    ),
    (
        multiprocess_checks.check_seed_sweep,
        good_sweep,
        [
            lambda seeds, s, w: {seed: 3.14 for seed in seeds},
            sweep_serially,
            sweep_in_arrival_order,
            sweep_on_one_worker,
        ],
    ),
]


@pytest.mark.parametrize(("check", "right", "wrongs"), CASES, ids=case_id)
def test_checkers_pass_right_and_fail_wrong_answers(check, right, wrongs):
    assert_checker_contract(check, right, wrongs)


def test_closure_map_coefficients_are_never_a_palindrome():
    """Reversed, a palindrome's polynomial is the same: evaluated lowest power first it
    would pass (both of the checker's cases were one in a fresh-clone run: about 1 run in
    1,300 draws two)."""
    rng = np.random.default_rng(0)
    drawn = [multiprocess_checks._coefficients_not_a_palindrome(rng) for _ in range(2000)]
    assert all(2 <= len(c) <= 5 and c != c[::-1] for c in drawn)


# --- Functions defined in a notebook, sent to worker processes, in a real Jupyter kernel.
# In a notebook __main__ is the kernel's namespace, which a spawned worker cannot import:
# plain pickle sends functions by name, so multiprocessing fails there, while
# multiprocess (dill) sends them by value. This runs exactly that in a kernel started the
# way Jupyter starts one.

CELLS = [
    """\
import dill
import numpy as np
from kernels.core.watched_pool import watched_pool

dill.settings["recurse"] = True  # also send the notebook globals a function uses
SCALE = 3

def scaled_root(x):
    return float(np.sqrt(x)) * SCALE
""",
    """\
with watched_pool(2, "spawn", "multiprocess") as pool:
    print(pool.map(lambda x: x * x, range(5)))
    print(pool.map(scaled_root, [4, 9]))
""",
    """\
import kernels
try:
    with watched_pool(2, "spawn", "multiprocessing") as pool:
        pool.map(scaled_root, [4, 9])
except kernels.WorkerDiedError as error:
    print("WorkerDiedError:", error)
""",
]


@pytest.fixture(scope="module")
def outputs():
    import nbformat
    from conftest import execute_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    execute_notebook(notebook, timeout=120)
    return ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]


def test_multiprocess_runs_a_notebook_lambda_and_function_under_spawn(outputs):
    assert outputs[1] == "[0, 1, 4, 9, 16]\n[6.0, 9.0]\n"


def test_multiprocessing_fails_on_a_notebook_function_instead_of_hanging(outputs):
    assert outputs[2].startswith("WorkerDiedError: a worker process died")
    assert "exited with code 1" in outputs[2]


def test_serialiser_cases_hold_two_objects_of_each_answer():
    # An answer wrong only on one kind of object (dill tried first: wrong on pickle's)
    # passed the draws that held none of that kind: about 1 in 1,300 before.
    from collections import Counter

    for seed in range(300):
        cases = multiprocess_checks._serialiser_cases(np.random.default_rng(seed))
        answers = Counter(want for _, _, want in cases)
        assert len(cases) == 8 and min(answers[w] for w in ("pickle", "dill", "neither")) >= 2
        for _, obj, _ in cases:
            if hasattr(obj, "close"):
                obj.close()

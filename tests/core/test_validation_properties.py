"""Property tests: any bad parameter is refused with a message naming it; good ones pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels
from kernels.core.registry import problem_specs

PROBLEMS = problem_specs()

PARAMS = [(name, p) for name, spec in PROBLEMS.items() for p in spec.params]


@pytest.mark.parametrize(("problem", "param"), PARAMS, ids=lambda v: getattr(v, "name", v))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_out_of_range_values_name_the_parameter(problem, param, data):
    value = data.draw(
        st.one_of(
            st.integers(max_value=param.minimum - 1),
            st.integers(min_value=param.maximum + 1),
        )
    )
    with pytest.raises(ValueError, match=rf"{param.name} must be [<>]= "):
        kernels.run(problem, "numpy", **{param.name: value})


@pytest.mark.parametrize(("problem", "param"), PARAMS, ids=lambda v: getattr(v, "name", v))
@settings(max_examples=30, deadline=None)
@given(
    value=st.one_of(
        st.floats(),
        st.text(max_size=3),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_non_integers_are_type_errors(problem, param, value):
    with pytest.raises(TypeError, match=rf"{param.name} must be an int, got "):
        kernels.run(problem, "numpy", **{param.name: value})


@settings(max_examples=15, deadline=None)
@given(width=st.integers(1, 40), height=st.integers(1, 30), max_iter=st.integers(1, 60),
       workers=st.integers(1, 5))  # fmt: skip
def test_any_valid_mandelbrot_size_matches_the_reference(width, height, max_iter, workers):
    params = {"width": width, "height": height, "max_iter": max_iter}
    got = kernels.run("mandelbrot", "threads", workers=workers, **params)
    assert (got == kernels.reference("mandelbrot", **params)).all()


@settings(max_examples=15, deadline=None)
@given(samples=st.integers(1, 450_000), seed=st.integers(0, 2**63 - 1), workers=st.integers(1, 6))
def test_pi_is_independent_of_worker_count(samples, seed, workers):
    expected = kernels.reference("monte_carlo_pi", samples=samples, seed=seed)
    assert kernels.run("monte_carlo_pi", "threads", workers, samples=samples, seed=seed) == expected

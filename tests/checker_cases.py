"""The one contract every exercise checker keeps, shared by the chapters' test modules."""

from __future__ import annotations

import re


def assert_checker_contract(check, right, wrongs) -> None:
    """``check`` passes ``right``, fails each of ``wrongs`` with a hint, and fails ``None``.

    ``wrongs`` is what learners tried: at least three near misses per checker. The
    exercise's stub as a chapter gives it (``def f(...): ...``, which returns ``None``)
    fails without raising: the unanswered exercise's cell runs.
    """
    assert len(wrongs) >= 3, "a checker needs at least three near misses in its tests"
    result = check(right)
    assert result.passed, result.message
    for number, wrong in enumerate(wrongs):
        result = check(wrong)
        assert not result.passed, f"near miss {number} passed: {result.message}"
        assert "Hint:" in result.message, result.message
        assert_no_formula(result.message)
    assert not check(None).passed

    def stub(*args, **kwargs): ...  # "# your code here"

    result = check(stub)
    assert not result.passed and "Hint:" in result.message, result.message


def assert_contract_on_many_draws(check, right, wrongs, monkeypatch, draws=200) -> None:
    """The contract holds for every one of ``draws`` replayed case sets, not only today's.

    For checkers that only compute (no pools): cases are drawn afresh on every call, so a
    near miss that a rare draw lets through would fail CI only now and then.
    """
    for seed in range(draws):
        monkeypatch.setenv("KERNELS_CHECK_SEED", str(seed))
        result = check(right)
        assert result.passed, f"seed {seed}: {result.message}"
        for number, wrong in enumerate(wrongs):
            assert not check(wrong).passed, f"seed {seed}: near miss {number} passed"


def assert_no_leak(result, secrets) -> None:
    """No text of ``secrets`` (expected values, the answer's formula) is in the message."""
    for secret in secrets:
        assert secret not in result.message, f"{secret!r} shown in: {result.message}"


# The formulas that answer chapter exercises: no checker message may print them.
ANSWER_FORMULAS = [
    re.compile(r"1\s*/\s*S\s*-\s*1\s*/\s*p"),  # Karp-Flatt
    re.compile(r"o\s*\*\s*E\s*/\s*\(\s*1\s*-\s*E\s*\)"),  # break-even
    re.compile(r"n_tasks\s*/\s*\(\s*\d\s*\*\s*workers\s*\)"),  # a chunksize rule
    re.compile(r"1\s*/\s*\(\s*f\s*\+\s*\(\s*1\s*-\s*f\s*\)\s*/\s*p\s*\)"),  # Amdahl
    re.compile(r"\(\s*1\s*-\s*f\s*\)\s*/\s*\(\s*1\s*/\s*\w+\s*-\s*f\s*\)"),  # inverted
    re.compile(r"\+=\s*1.*reduction|reduction.*\+=\s*1"),  # the prange fix spelled out
]


def assert_no_formula(text: str) -> None:
    """``text`` prints none of the formulas that answer an exercise."""
    for formula in ANSWER_FORMULAS:
        assert not formula.search(text), f"{formula.pattern} in: {text}"


def case_id(value) -> str:
    """Test ids: the checker's and the right answer's names."""
    return getattr(value, "__name__", "")

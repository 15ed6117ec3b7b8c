"""What every exercise checker shares: the result type and the pass/fail messages.

Each chapter's checkers are in its folder's ``checks.py`` (``kernels.dask.checks``, ...).
A checker returns a :class:`CheckResult`, shown as a clear pass or fail with a hint. It
is truthy when the answer passes, so ``assert check_...(answer)`` works too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a checker: ``passed`` and the message a learner reads."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#cf222e"
        return f'<p style="color:{color}; font-weight:bold">{self.message}</p>'


def passed(what: str) -> CheckResult:
    return CheckResult(True, f"✅ Correct: {what}")


def failed(problem: str, hint: str) -> CheckResult:
    return CheckResult(False, f"❌ Not yet: {problem}\nHint: {hint}")


def call(func: Callable, *args):
    return func(*args)


def needs_function(
    checker: Callable[[Callable], CheckResult],
) -> Callable[[Callable], CheckResult]:
    """Turn "no function given yet" into a failed check instead of an exception."""

    @functools.wraps(checker)
    def wrapper(func):
        if not callable(func):
            return failed(
                f"expected your function, got {type(func).__name__} {func!r}",
                "define the function in the cell above and pass its name, without calling it.",
            )
        return checker(func)

    return wrapper

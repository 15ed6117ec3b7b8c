"""What every checker shares: the result type and the pass/fail messages."""

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


def _passed(what: str) -> CheckResult:
    return CheckResult(True, f"✅ Correct: {what}")


def _failed(problem: str, hint: str) -> CheckResult:
    return CheckResult(False, f"❌ Not yet: {problem}\nHint: {hint}")


def _call(func: Callable, *args):
    return func(*args)


def _needs_function(
    checker: Callable[[Callable], CheckResult],
) -> Callable[[Callable], CheckResult]:
    """Turn "no function given yet" into a failed check instead of an exception."""

    @functools.wraps(checker)
    def wrapper(func):
        if not callable(func):
            return _failed(
                f"expected your function, got {type(func).__name__} {func!r}",
                "define the function in the cell above and pass its name, without calling it.",
            )
        return checker(func)

    return wrapper

"""The one contract every exercise checker keeps, shared by the chapters' test modules."""

from __future__ import annotations


def assert_checker_contract(check, right, wrongs) -> None:
    """``check`` passes ``right``, fails each of ``wrongs`` with a hint, and fails ``None``."""
    result = check(right)
    assert result.passed, result.message
    for wrong in wrongs:
        result = check(wrong)
        assert not result.passed and "Hint:" in result.message, result.message
    assert not check(None).passed


def case_id(value) -> str:
    """Test ids: the checker's and the right answer's names."""
    return getattr(value, "__name__", "")

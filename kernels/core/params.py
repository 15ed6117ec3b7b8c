"""Parameter declarations and validation shared by every problem and backend."""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IntParam:
    """An integer parameter of a problem.

    Parameters
    ----------
    name : str
        Keyword name used by :func:`kernels.run`.
    default : int
        Value used when the caller gives none (sized so ``numpy`` takes well under 1 s).
    minimum, maximum : int
        Inclusive bounds; values outside are rejected with a clear message.
    doc : str
        One line describing the parameter.
    """

    name: str
    default: int
    minimum: int
    maximum: int
    doc: str

    def validate(self, value: Any, owner: str) -> int:
        """Return ``value`` as a plain ``int`` or raise ``TypeError``/``ValueError``."""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(
                f"{owner}: {self.name} must be an int, got {type(value).__name__} {value!r}"
            )
        value = int(value)
        if value < self.minimum:
            raise ValueError(f"{owner}: {self.name} must be >= {self.minimum}, got {value}")
        if value > self.maximum:
            raise ValueError(f"{owner}: {self.name} must be <= {self.maximum:_}, got {value:_}")
        return value


@dataclass(frozen=True)
class ChoiceOption:
    """A backend option whose value is one of a fixed set of strings.

    Parameters
    ----------
    name : str
        Keyword name used by :func:`kernels.run`.
    default : str or None
        Value used when the caller gives none.
    choices : sequence of str
        The allowed values.
    doc : str
        One line describing the option.
    """

    name: str
    default: str | None
    choices: Sequence[str]
    doc: str

    def validate(self, value: Any, owner: str) -> str:
        """Return ``value`` if it is one of the choices, else raise with the allowed values."""
        if value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ValueError(f"{owner}: {self.name} must be one of {allowed}, got {value!r}")
        return value


@dataclass(frozen=True)
class TextOption:
    """A backend option whose value is free text of a given shape (e.g. an address).

    Parameters
    ----------
    name : str
        Keyword name used by :func:`kernels.run`.
    default : str or None
        Value used when the caller gives none.
    pattern : str
        Regular expression the whole value must match.
    example : str
        A valid value, quoted in the error message.
    doc : str
        One line describing the option.
    """

    name: str
    default: str | None
    pattern: str
    example: str
    doc: str

    def validate(self, value: Any, owner: str) -> str | None:
        """Return ``value`` (``None`` allowed) if it matches :attr:`pattern`, else raise."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(
                f"{owner}: {self.name} must be a str such as {self.example!r}, "
                f"got {type(value).__name__} {value!r}"
            )
        if re.fullmatch(self.pattern, value) is None:
            raise ValueError(f"{owner}: {self.name} must look like {self.example!r}, got {value!r}")
        return value


Option = ChoiceOption | TextOption


def validate_values(
    given: Mapping[str, Any], declared: Sequence[IntParam | Option], owner: str
) -> dict[str, Any]:
    """Fill defaults and validate ``given`` against ``declared``.

    Unknown names raise ``TypeError`` listing the allowed names, as Python does for an
    unexpected keyword argument.
    """
    by_name = {p.name: p for p in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        allowed = ", ".join(by_name) or "none"
        raise TypeError(f"{owner}: unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}")
    values = {}
    for p in declared:
        value = given.get(p.name, p.default)
        values[p.name] = p.validate(value, owner) if p.name in given else value
    return values

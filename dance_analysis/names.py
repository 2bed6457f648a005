"""Names that travel as text: reason codes, job states, stages.

Their values are what job rows, JSON and logs carry, so a member must read as its
value wherever it is printed or formatted.
"""

from __future__ import annotations

from enum import Enum


class TextEnum(str, Enum):
    """A str enum that prints as its value on every Python version.

    A str mixin formats as ``Status.QUEUED`` on Python ≥ 3.11 (but ``queued`` on
    3.10); these two methods keep messages and logs the same everywhere.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

"""Steps declared as data: what to ask and how."""
from __future__ import annotations

from dataclasses import dataclass


class Invalid(ValueError):
    """A user's answer was refused; the message is shown in the card."""


@dataclass(frozen=True)
class Step:
    id: str
    label: str
    field: str = ""
    options: tuple[str, ...] = ()
    example: str = ""  # shown greyed in the empty field
    max_length: int = 2000

    def clean(self, raw) -> str:
        value = (raw or "").strip() if isinstance(raw, str) else ""
        if not value:
            raise Invalid("Please give an answer before going on.")
        if len(value) > self.max_length:
            raise Invalid(f"That answer is too long ({len(value):,} characters; at most {self.max_length:,}).")
        if self.options and value not in self.options:
            raise Invalid(f"Please choose one of: {', '.join(self.options)}.")
        return value

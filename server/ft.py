"""FT (FastHTML component) details that must render the same on every fastcore the app runs on."""
from __future__ import annotations


class _Empty:
    """An attribute's empty value, `value=""`. fastcore 1.8 (what nixpkgs 25.11 ships) leaves out any attribute
    equal to "": an option without a value submits its label ("nothing (one colour)" instead of ""), and a button's
    data-open-folder (the downloads folder itself) vanishes."""

    def __html__(self) -> str:
        return ""

    def __str__(self) -> str:
        return ""


EMPTY = _Empty()

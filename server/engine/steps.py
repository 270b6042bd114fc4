"""Step kinds: each asks for one value with its own labelled field, checks it and shows it locked.

A step's id is its field name and its key in the run, so a workflow reads `run["name"]`. Declare steps as data:

    steps = [Text("name", "Your name"), Choice("color", "Colour", {"red": "Red", "blue": "Blue"})]

Every kind takes `id`, `label` and `example` (greyed hint) and has three methods the engine calls:
`control(value, invalid)` the labelled field (with `value` pre-filled), `clean(form)` the value to store or
`Invalid`, and `summary(value)` what the locked card shows. `raw(form)` is what to put back in a refused field.
"""
from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

from fasthtml.common import FT, Fieldset, Input, Label, Option, Select, Span, Textarea

from ..ft import EMPTY

RESERVED = {"created", "updated", "finalize", "refill", "working", "profile"}


def para(text: str, cls: str | None = None) -> FT:
    """A locked card's summary paragraph, built as an FT directly as P(...) would build it: P's keyword handling
    was a tenth of a submit's time."""
    return FT("p", (text,), {"class": cls} if cls else {})


class Invalid(ValueError):
    """A user's answer was refused; the message is shown in the card, the answer stays in its field."""


class Stopped(Invalid):
    """A background producer stopped where only the user can move it on (the card's `working` hook shows how):
    its message is shown without a "Try again"."""


def field_id(step_id: str) -> str:
    return f"field-{step_id}"


@dataclass(frozen=True)
class Step:
    """A one-line text answer; the other kinds change how it is asked, checked and shown."""
    id: str
    label: str
    _: KW_ONLY
    example: str = ""
    max_length: int = 2000
    grouped = False  # True: several inputs in a fieldset, labelled by the card's header
    background = False

    def __post_init__(self):
        if self.id in RESERVED or not self.id.isidentifier():
            raise ValueError(f"Step id “{self.id}” must be a Python name other than {', '.join(sorted(RESERVED))}.")

    def attrs(self, invalid: bool) -> dict:
        return dict(name=self.id, id=field_id(self.id), required=True, data_autofocus=True,
                    aria_invalid="true" if invalid else None)

    def control(self, value="", invalid: bool = False):
        # No maxlength: the browser would cut a long paste silently; the server refuses it and gives it back.
        return Input(type="text", value=value or "", placeholder=self.example, **self.attrs(invalid))

    def raw(self, form):
        value = form.get(self.id)
        return value if isinstance(value, str) else ""

    def clean(self, form):
        value = self.raw(form).strip()
        if not value:
            raise Invalid("Please give an answer before going on.")
        if len(value) > self.max_length:
            raise Invalid(f"That answer is too long ({len(value):,} characters; at most {self.max_length:,}).")
        return value

    def summary(self, value):
        return para(str(value))


Text = Step


@dataclass(frozen=True)
class LongText(Step):
    """Several lines of text, in a textarea; the summary keeps the line breaks."""
    _: KW_ONLY
    max_length: int = 20000
    rows: int = 6

    def control(self, value="", invalid: bool = False):
        return Textarea(value or "", rows=self.rows, placeholder=self.example, **self.attrs(invalid))

    def summary(self, value):
        return para(str(value), "long-text")


def _pairs(options) -> dict[str, str]:
    """Options as {stored value: shown label}: a dict as given, a list of strings shown capitalised."""
    return dict(options) if isinstance(options, dict) else {o: o.capitalize() for o in options}


@dataclass(frozen=True)
class Choice(Step):
    """One of `options` ({stored: shown} or a list), as a select or, with `radios=True`, radio buttons."""
    options: dict | tuple = field(default_factory=dict)
    _: KW_ONLY
    radios: bool = False

    @property
    def grouped(self):
        return self.radios

    @property
    def shown(self) -> dict[str, str]:
        return _pairs(self.options)

    def control(self, value="", invalid: bool = False):
        if self.radios:
            return _boxes("radio", self, {value}, invalid)
        opts = [Option("Choose…", value=EMPTY, disabled=True, selected=not value)]
        opts += [Option(label, value=v, selected=v == value) for v, label in self.shown.items()]
        return Select(*opts, **self.attrs(invalid))

    def clean(self, form):
        value = self.raw(form).strip()
        if not value:
            raise Invalid("Please choose one before going on.")
        if value not in self.shown:
            raise Invalid(f"Please choose one of: {', '.join(self.shown.values())}.")
        return value

    def summary(self, value):
        return para(self.shown.get(value, str(value)))


@dataclass(frozen=True)
class Choices(Step):
    """Any of `options` as checkboxes, stored as a list of values; `at_least` of them must be ticked."""
    options: dict | tuple = field(default_factory=dict)
    _: KW_ONLY
    at_least: int = 1
    grouped = True

    @property
    def shown(self) -> dict[str, str]:
        return _pairs(self.options)

    def control(self, value=(), invalid: bool = False):
        return _boxes("checkbox", self, set(value or ()), invalid)

    def raw(self, form):
        values = form.getlist(self.id) if hasattr(form, "getlist") else form.get(self.id, [])
        return [v for v in ([values] if isinstance(values, str) else values) if isinstance(v, str)]

    def clean(self, form):
        picked = [v for v in self.shown if v in self.raw(form)]  # in the declared order, unknown values dropped
        if len(picked) < self.at_least:
            raise Invalid(f"Please tick at least {self.at_least}.")
        return picked

    def summary(self, value):
        return para(", ".join(self.shown.get(v, v) for v in value) or "None")


@dataclass(frozen=True)
class Number(Step):
    """A whole number (or a decimal with `decimals=True`) between `min` and `max`."""
    _: KW_ONLY
    min: float | None = None
    max: float | None = None
    decimals: bool = False

    def control(self, value="", invalid: bool = False):
        return Input(type="number", value="" if value is None else value, min=self.min, max=self.max,
                     step="any" if self.decimals else "1", placeholder=self.example, **self.attrs(invalid))

    def clean(self, form):
        text = self.raw(form).strip()
        try:
            value = float(text) if self.decimals else int(text)
        except ValueError:
            raise Invalid(f"“{text[:40]}” is not a {'number' if self.decimals else 'whole number'}.") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise Invalid("Please give a finite number.")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise Invalid(f"Please give a number from {self.min} to {self.max}.")
        return value


@dataclass(frozen=True)
class Flag(Step):
    """Yes or no, as two radio buttons (neither ticked until the user picks), stored as True or False."""
    _: KW_ONLY
    yes: str = "Yes"
    no: str = "No"
    grouped = True

    def control(self, value=None, invalid: bool = False):
        picked = {"yes" if value is True or value == "yes" else "no" if value is False or value == "no" else ""}
        return _boxes("radio", self, picked, invalid)

    @property
    def shown(self) -> dict[str, str]:
        return {"yes": self.yes, "no": self.no}

    def clean(self, form):
        value = self.raw(form)
        if value not in ("yes", "no"):
            raise Invalid(f"Please answer {self.yes} or {self.no}.")
        return value == "yes"

    def summary(self, value):
        return para(self.yes if value else self.no)


@dataclass(frozen=True)
class Background(Step):
    """A value the engine produces by awaiting the workflow's `producer` method: `async def f(run, progress)`.

    `progress(*fts)` (a plain call) shows work in progress in the open card; raise `Invalid` to show a message with
    a "Try again", `Stopped` to show one without.
    With `resume=True` the work starts again after a restart; otherwise the card says it was interrupted."""
    _: KW_ONLY
    producer: str = ""
    resume: bool = False
    busy: str = "Working…"
    background = True

    def control(self, value="", invalid: bool = False):
        return None

    def clean(self, form):
        raise Invalid("This step fills itself in: wait for it to finish.")


def _boxes(kind: str, step, picked: set, invalid: bool):
    """Radio buttons or checkboxes, each with its label, in a fieldset named by the card's header (its label)."""
    boxes = [Label(Input(type=kind, name=step.id, value=v, checked=v in picked,
                         required=kind == "radio" or None, data_autofocus=i == 0 or None), Span(label))
             for i, (v, label) in enumerate(step.shown.items())]
    return Fieldset(*boxes, id=field_id(step.id), aria_labelledby=f"label-{step.id}",
                    aria_invalid="true" if invalid else None, cls="choices")

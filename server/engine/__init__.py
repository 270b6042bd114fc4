"""The pipeline engine: run state in one JSON blob, typed steps as data, the card chain and background steps."""
from .pipeline import Run, RunStore
from .steps import Background, Choice, Choices, Flag, Invalid, LongText, Number, Step, Stopped, Text
from .workflow import Workflow, action

__all__ = ["Background", "Choice", "Choices", "Flag", "Invalid", "LongText", "Number", "Run", "RunStore", "Step",
           "Stopped", "Text", "Workflow", "action"]

"""The pipeline engine: run state in one JSON blob, steps as data, and the card chain."""
from .pipeline import Run, RunStore
from .steps import Invalid, Step
from .workflow import Workflow

__all__ = ["Invalid", "Run", "RunStore", "Step", "Workflow"]

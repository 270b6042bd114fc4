"""Every module in this folder that defines a Workflow subclass becomes a menu entry: no other edit needed."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from ..engine import Workflow

BUILTIN_FOLDER = Path(__file__).parent  # watched with --dev (server/engine/loader.py)


def discover() -> list[type[Workflow]]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Workflow) and obj is not Workflow and obj.__module__ == module.__name__ and obj.name:
                found.append(obj)
    return found

"""Screens that are not workflows (home, profiles, tasks, settings, …): each module here has `register(ctx, rt)`."""
from __future__ import annotations

import importlib
import pkgutil


def discover_apps() -> list:
    modules = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]
    return sorted((m for m in modules if hasattr(m, "register")), key=lambda m: getattr(m, "ORDER", 50))

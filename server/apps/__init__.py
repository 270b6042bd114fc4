"""Screens that are not workflows (home, profiles, tasks, settings, …): each module here has `register(ctx, rt)`."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path


def discover_apps(failed: list | None = None) -> list:
    """The app modules in menu order. Given `failed` (`--dev`), a module that cannot be imported goes there as
    (its file, the exception) instead of stopping the start, so the app can show where it broke."""
    modules = []
    for info in pkgutil.iter_modules(__path__):
        try:
            modules.append(importlib.import_module(f"{__name__}.{info.name}"))
        except Exception as exc:
            if failed is None:
                raise
            failed.append((Path(__path__[0]).resolve() / f"{info.name}.py", exc))
    return sorted((m for m in modules if hasattr(m, "register")), key=lambda m: getattr(m, "ORDER", 50))

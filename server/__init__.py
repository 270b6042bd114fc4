"""Pipedeck's FastHTML server: engine, workflows, apps, LLM, Botify client and graph viewer."""
import sys


def _import_fastlite_lean() -> None:
    # apswutils (under fastlite) imports pandas and numpy only to map their column types, which we never
    # store; hiding them during that import saves about a second of start-up. Later imports load them normally.
    hidden = [m for m in ("pandas", "numpy") if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None
    try:
        import fastlite  # noqa: F401
    finally:
        for m in hidden:
            sys.modules.pop(m, None)


_import_fastlite_lean()

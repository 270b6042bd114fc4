"""A cheaper form of PySide6's per-import source scan (its `__feature__` support).

Once PySide6 is loaded, every module imported after it is checked for the text "PySide6" in its source, through
`inspect.getsource`: the file is decoded, split into lines and kept in `linecache` for the life of the process. The
app is built after Qt loads (desktop/launch.py), so each of its ~200 modules paid that: ~0.15 s of start-up and
~4 million characters of source held in memory (py-spy and linecache, bench_window.py). PySide6 has no switch for
it, so its check is wrapped here, at one place: the same question, asked of the file's bytes, nothing cached.
"""
from __future__ import annotations

import sys

NEEDLE = b"PySide6"


def install() -> bool:
    """Replace the scan in the loaded PySide6 (after `import PySide6`); False when this PySide6 has none."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "pipedeck", False):
        return False

    def uses_pyside(module) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            # Built-in, extension or source-less: inspect finds no source for these and PySide6 answers False;
            # anything unusual (a loader with its own source) still gets PySide6's own answer.
            return False if path is None or path.endswith((".so", ".pyd", ".pyc")) else original(module)
        try:
            with open(path, "rb") as f:
                return NEEDLE in f.read()
        except OSError:  # e.g. a module inside a zip file: its loader knows the source
            return original(module)

    uses_pyside.pipedeck = True
    feature._mod_uses_pyside = uses_pyside
    return True

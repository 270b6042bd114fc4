"""No garbage collection while Pipedeck starts, and none of start-up's objects scanned again afterwards.

Start-up creates ~50,000 tracked objects (Qt's enums, the app's modules and routes) and almost no garbage, yet
Python's collector walks them again and again as they pile up (~130 collections, 0.06-0.1 s of CPU here), on the
launch path and competing with Qt WebEngine for the cores. Paused at the first line of `python -m desktop`; once the app answers, what exists is
frozen (moved out of the collector's generations, as gc.freeze's documentation suggests after start-up) and
collection resumes for everything made later."""
from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Idempotent; does nothing when pause() did not disable the collector (a test calling the launch directly)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()

"""The launch's process settings (desktop/__main__.py): PySide6's import scan without source kept in memory, no
garbage collection until the app answers. Each runs in a fresh interpreter, as a launch has it."""
from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_pyside_scan_gives_pyside6s_answers_without_keeping_any_source():
    code = ("import linecache, PySide6\nfrom desktop import pyside_scan\nassert pyside_scan.install()\n"
            "assert not pyside_scan.install()  # once\nimport PySide6.QtCore\n"
            "from desktop.graphics import toolkit\nfrom server.config import Config\nimport shibokensupport.feature as f\n"
            "d = f.pyside_feature_dict\n"
            "print(d['desktop.graphics'], d['server.config'], d['_csv'] if '_csv' in d else -1, "
            "any(k.endswith(('graphics.py', 'config.py')) for k in linecache.cache))")
    # desktop.graphics mentions PySide6 (0: switchable), server.config does not (-1: ignored), as PySide6 decides.
    assert run(code) == "0 -1 -1 False"


def test_collection_pauses_until_the_app_answers_and_start_up_objects_are_frozen():
    code = ("import gc\nfrom desktop import startup_gc\nstartup_gc.pause()\nassert not gc.isenabled()\n"
            "startup_gc.resume(); startup_gc.resume()\nprint(gc.isenabled(), gc.get_freeze_count() > 0)")
    assert run(code) == "True True"


def test_resume_without_pause_freezes_nothing():
    code = "import gc\nfrom desktop import startup_gc\nstartup_gc.resume()\nprint(gc.isenabled(), gc.get_freeze_count())"
    assert run(code) == "True 0"


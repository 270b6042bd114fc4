"""What a launch imports, in a fresh interpreter as a launch has it: the window's path stays light, and the app never
loads pandas/numpy while it starts (apswutils would otherwise import both, ~1 s and 85 MiB, for types we never store).
Timings live in bench/bench_window.py; these only guard which modules load."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT

HEAVY = ("fastlite", "apswutils", "server.llm", "server.engine", "pandas", "numpy")


def loaded_after(code: str) -> dict:
    """Run `code` in a new Python from the checkout and report which of HEAVY it left in sys.modules."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_window_launch_path_loads_no_database_or_llm_code():
    # desktop.cli runs on the main thread before Qt starts: the app's libraries load in the server thread instead.
    loaded = loaded_after("import desktop.cli")
    assert not any(loaded.values()), loaded


def test_the_app_starts_without_pandas_and_numpy_which_still_load_on_demand():
    loaded = loaded_after("import server.app")
    assert loaded["fastlite"] and loaded["apswutils"]
    assert not loaded["pandas"] and not loaded["numpy"]
    # apswutils saw them missing (no DataFrame column types), and a later import by an export still works.
    code = ("import server.app, apswutils.db as d, pandas, numpy\n"
            "assert d.pd is None and d.np is None and pandas.DataFrame and numpy.array")
    assert loaded_after(code)["pandas"]

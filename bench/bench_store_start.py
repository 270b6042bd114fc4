"""Start-up of the app as the Nix package installs it (share/pipedeck in a read-only store).

The store cannot take __pycache__ writes, so nix/package.nix byte-compiles desktop/ and server/ at build time.
This measures a fresh Python importing the app (desktop.cli and server.app with every workflow and app module)
from that layout, with and without the compiled files (PYTHONDONTWRITEBYTECODE stands in for the read-only
store), against the checkout with its own __pycache__, in the same run.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, fmt, summary


# create_app discovers and imports every workflow and app module, as a launch does.
IMPORT_APP = "import desktop.cli, server.app, server.config; server.app.create_app(server.config.Config())"


def time_to_import(cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORT_APP], cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    n = 5 if ap.parse_args().quick else 15
    with tempfile.TemporaryDirectory(prefix="pipedeck-store-") as tmp:
        tmp = Path(tmp)
        compiled, plain = tmp / "compiled" / "share" / "pipedeck", tmp / "plain" / "share" / "pipedeck"
        for share in (compiled, plain):
            for name in ("desktop", "server", "static"):
                shutil.copytree(ROOT / name, share / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(compiled / "desktop"), str(compiled / "server")],
                       check=True)
        base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        base.update(PIPEDECK_DATA_DIR=str(tmp / "data"), PIPEDECK_DOWNLOADS_DIR=str(tmp / "downloads"))
        elsewhere = tmp / "elsewhere"
        elsewhere.mkdir()
        cases = {
            "checkout (baseline)": (ROOT, base),
            "store layout, byte-compiled at build": (elsewhere, {**base, "PYTHONPATH": str(compiled),
                                                                  "PYTHONDONTWRITEBYTECODE": "1"}),
            "store layout, not byte-compiled": (elsewhere, {**base, "PYTHONPATH": str(plain),
                                                             "PYTHONDONTWRITEBYTECODE": "1"}),
        }
        time_to_import(*cases["checkout (baseline)"])  # warm the checkout's own __pycache__ and the OS caches
        samples = {name: [] for name in cases}
        for _ in range(n):  # interleaved, so load from other programs falls on every case alike
            for name, case in cases.items():
                samples[name].append(time_to_import(*case))
        results = {name: summary(times) for name, times in samples.items()}
    baseline = results["checkout (baseline)"]["median_ms"]
    for name, s in results.items():
        print(f"{name:40s} {fmt(s)}   x{s['median_ms'] / baseline:.2f} of the checkout")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

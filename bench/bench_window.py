"""Time from process start to the native window showing the rendered home page, and peak memory of the process tree.

Pipedeck (`python -m desktop`) against NiceGUI's native mode (a one-label page, Qt backend too) measured in the same
run under the same Xvfb display. "Rendered" is read from inside each window over QtWebEngine's DevTools port: the
page is loaded and its text is in the DOM. NiceGUI lives in a throwaway virtual environment (default
/tmp/nicegui-bench-venv; created with `uv venv` + `uv pip install nicegui pywebview PySide6 qtpy` when missing).

    python bench/bench_window.py [--quick] [--runs N] [--nicegui-venv DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
from websockets.sync.client import connect

from common import ROOT

from tests.support import free_port
from tests.window_support import Xvfb

NICEGUI_APP = """
from nicegui import app, ui
app.native.start_args["gui"] = "qt"
ui.label("Hello from NiceGUI")
ui.run(native=True, reload=False, port={port}, show=False, title="NiceGUI")
"""


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def page_ready(http: httpx.Client, cdp_port: int, app_url: str, check: str) -> bool:
    """True once the window's page (at app_url) has loaded and `check` holds in it."""
    try:
        targets = http.get(f"http://127.0.0.1:{cdp_port}/json", timeout=1).json()
    except (httpx.HTTPError, ValueError):
        return False
    pages = [t for t in targets if t.get("type") == "page" and t.get("url", "").startswith(app_url)]
    if not pages:
        return False
    expression = f"document.readyState === 'complete' && !!({check})"
    try:
        with connect(pages[0]["webSocketDebuggerUrl"], open_timeout=2) as ws:
            ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate",
                                "params": {"expression": expression, "returnByValue": True}}))
            while True:
                answer = json.loads(ws.recv(timeout=2))
                if answer.get("id") == 1:
                    return answer.get("result", {}).get("result", {}).get("value") is True
    except Exception:  # the page may navigate or the socket close mid-question: not ready yet
        return False


def measure(cmd: list[str], env: dict, app_url: str, cdp_port: int, check: str, timeout: float = 60) -> tuple[float, int]:
    """(seconds from process start to rendered page, peak RSS of the process tree in bytes)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=env.get("BENCH_CWD", ROOT), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    ps, peak, done = psutil.Process(proc.pid), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(ps))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with httpx.Client() as http:
            while not page_ready(http, cdp_port, app_url, check):
                if proc.poll() is not None or time.monotonic() - started > timeout:
                    raise RuntimeError(f"{cmd[0]} … did not show its page (exit {proc.poll()})")
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        time.sleep(1.0)  # memory keeps growing a little while the page settles; count that too
        return elapsed, peak[0]
    finally:
        done.set()
        sampler.join()
        try:
            os.killpg(proc.pid, 15)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, 9)
            proc.wait()


def pipedeck_run(display: str) -> tuple[float, int]:
    port, cdp = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DISPLAY": display, "QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{cdp}"}
        cmd = [sys.executable, "-m", "desktop", "--port", str(port), "--data-dir", f"{tmp}/data",
               "--downloads-dir", f"{tmp}/downloads"]
        return measure(cmd, env, f"http://127.0.0.1:{port}/", cdp, "document.querySelector('h1')?.textContent === 'Pipedeck'")


def nicegui_run(display: str, venv: Path) -> tuple[float, int]:
    port, cdp = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "one_label.py"
        script.write_text(NICEGUI_APP.format(port=port))
        env = {**os.environ, "DISPLAY": display, "QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{cdp}", "BENCH_CWD": tmp}
        if os.geteuid() == 0:  # the same sandbox exception Pipedeck makes for itself as root
            env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
        cmd = [str(venv / "bin" / "python"), str(script)]
        return measure(cmd, env, f"http://127.0.0.1:{port}/", cdp,
                       "document.body.innerText.includes('Hello from NiceGUI')")


def ensure_nicegui(venv: Path) -> bool:
    if (venv / "bin" / "python").exists():
        ok = subprocess.run([venv / "bin" / "python", "-c", "import nicegui, webview, PySide6.QtWebEngineWidgets"],
                            capture_output=True).returncode == 0
        if ok:
            return True
    uv = shutil.which("uv")
    if not uv:
        return False
    print(f"installing NiceGUI into {venv} (once) …", flush=True)
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    result = subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                             "nicegui", "pywebview", "PySide6", "qtpy"])
    return result.returncode == 0


def report(name: str, samples: list[tuple[float, int]]) -> tuple[float, float]:
    times = [t for t, _ in samples]
    peak = max(m for _, m in samples) / 2**20
    median = statistics.median(times)
    print(f"{name:10s} time to rendered window: median {median * 1000:7.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, n={len(times)})   "
          f"peak RSS of process tree {peak:6.0f} MiB", flush=True)
    return median, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 runs each instead of 5")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--nicegui-venv", type=Path, default=Path(tempfile.gettempdir()) / "nicegui-bench-venv")
    args = ap.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    xvfb_bin = shutil.which("Xvfb")
    if not xvfb_bin:
        print("Xvfb is needed (Debian package xvfb)")
        return 1
    have_nicegui = ensure_nicegui(args.nicegui_venv)
    xvfb = Xvfb(xvfb_bin)
    try:
        # Alternate the two so that warm file caches and background load treat them alike; one warm-up each first.
        pipedeck_run(xvfb.display)
        if have_nicegui:
            nicegui_run(xvfb.display, args.nicegui_venv)
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(pipedeck_run(xvfb.display))
            if have_nicegui:
                theirs.append(nicegui_run(xvfb.display, args.nicegui_venv))
    finally:
        xvfb.stop()
    t_ours, m_ours = report("Pipedeck", ours)
    if not have_nicegui:
        print("NiceGUI baseline unavailable (no uv or no network): only Pipedeck measured")
        return 0
    t_theirs, m_theirs = report("NiceGUI", theirs)
    print(f"ratio Pipedeck/NiceGUI: time {t_ours / t_theirs:.2f} (target <= 0.50)   "
          f"memory {m_ours / m_theirs:.2f} (target < 1.00)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

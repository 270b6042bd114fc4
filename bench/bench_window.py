"""Time from process start to the native window showing the rendered home page, and peak memory of the process tree.

Three apps measured in the same run, interleaved, under one Xvfb display, all on pywebview's Qt backend:
- the floor: a bare pywebview window on a one-route Starlette app served by uvicorn in a thread (what any
  Python webview app pays before its own code), with the Chromium switches Pipedeck starts its own window with;
- Pipedeck (`python -m desktop`), printed as ratios to the floor and to NiceGUI;
- NiceGUI's native mode (a one-label page). It lives in a throwaway virtual environment outside the repo (default
  /tmp/nicegui-bench-venv; made with `uv venv` + `uv pip install --compile-bytecode nicegui pywebview PySide6 qtpy`
  when missing), with its bytecode compiled as Pipedeck's .venv is.
"Rendered" is read from inside each window over QtWebEngine's DevTools port: the page is loaded and its text is in
the DOM. `--variant 'name:KEY=VALUE KEY=VALUE'` adds Pipedeck launched with extra environment (to measure a Qt or
Chromium setting; an empty VALUE removes the variable).

    python bench/bench_window.py [--quick] [--runs N] [--nicegui-venv DIR] [--variant SPEC ...] [--before DIR]
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

from desktop import chromium
from tests.support import free_port
from tests.window_support import Xvfb

NICEGUI_APP = """
from nicegui import app, ui
app.native.start_args["gui"] = "qt"
ui.label("Hello from NiceGUI")
ui.run(native=True, reload=False, port={port}, show=False, title="NiceGUI")
"""

# The floor: the least a Python app can do to show a served page in a pywebview Qt window (at Pipedeck's default
# window size: a bigger window costs the compositor about 13 MiB more by itself).
FLOOR_APP = """
import threading, time
import uvicorn, webview
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

async def home(request):
    return HTMLResponse("<!doctype html><title>Floor</title><h1>Hello from the floor</h1>")

server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", home)]), host="127.0.0.1", port={port},
                                      log_level="warning"))
threading.Thread(target=server.run, daemon=True).start()
while not server.started:
    time.sleep(0.01)
webview.create_window("Floor", "http://127.0.0.1:{port}/", width=1200, height=820)
webview.start(gui="qt")
"""


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds (user + system) the process tree has used so far."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
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


def measure(cmd: list[str], env: dict, app_url: str, cdp_port: int, check: str,
            timeout: float = 60) -> tuple[float, int, float]:
    """(seconds from process start to rendered page, peak RSS of the process tree in bytes, CPU seconds until then).

    CPU is the figure a loaded machine cannot blur: with other work on the cores, time follows it."""
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
        elapsed, cpu = time.monotonic() - started, tree_cpu(ps)
        time.sleep(1.0)  # memory keeps growing a little while the page settles; count that too
        return elapsed, peak[0], cpu
    finally:
        done.set()
        sampler.join()
        try:
            os.killpg(proc.pid, 15)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, 9)
            proc.wait()


def base_env(display: str, cdp_port: int) -> dict:
    """The environment every app starts with: this display, DevTools on, no Qt/Chromium tuning from outside, and
    bytecode cached as on a user's machine (a CI shell's PYTHONDONTWRITEBYTECODE would recompile every module of
    the app, ~0.1 s a launch, at every launch)."""
    dropped = ("QT_QUICK_BACKEND", "QTWEBENGINE_CHROMIUM_FLAGS", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "DISPLAY": display, "QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{cdp_port}"}


def script_run(display: str, python: str, source: str, check: str, same_flags: bool = False) -> tuple[float, int]:
    """A one-file app (the floor or NiceGUI) started with `python app.py`; `same_flags`: with the Qt logging rules and
    Chromium switches Pipedeck gives its own window (desktop/chromium.py), settings any app could use, so that the
    floor differs from Pipedeck by the app alone."""
    port, cdp = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "app.py"
        script.write_text(source.format(port=port))
        env = {**base_env(display, cdp), "BENCH_CWD": tmp}
        if same_flags:
            chromium.prepare(env)
        elif os.geteuid() == 0:  # the same sandbox exception Pipedeck makes for itself as root
            env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
        return measure([python, str(script)], env, f"http://127.0.0.1:{port}/", cdp, check)


def pipedeck_run(display: str, extra_env: dict, root: Path = ROOT) -> tuple[float, int, float]:
    port, cdp = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**base_env(display, cdp), **extra_env, "BENCH_CWD": str(root)}
        env = {k: v for k, v in env.items() if v != ""}
        cmd = [sys.executable, "-m", "desktop", "--port", str(port), "--data-dir", f"{tmp}/data",
               "--downloads-dir", f"{tmp}/downloads"]
        return measure(cmd, env, f"http://127.0.0.1:{port}/", cdp, "document.querySelector('h1')?.textContent === 'Pipedeck'")


def ensure_nicegui(venv: Path) -> bool:
    if (venv / "bin" / "python").exists():
        ok = subprocess.run([venv / "bin" / "python", "-c", "import nicegui, webview, PySide6.QtWebEngineWidgets"],
                            capture_output=True).returncode == 0
        if ok:
            return True
    uv = shutil.which("uv") or shutil.which("uv", path=str(ROOT / ".venv-tools" / "bin"))
    if not uv:
        return False
    print(f"installing NiceGUI into {venv} (once) …", flush=True)
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    result = subprocess.run([uv, "pip", "install", "-q", "--compile-bytecode", "--python", str(venv / "bin" / "python"),
                             "nicegui", "pywebview", "PySide6", "qtpy"])
    return result.returncode == 0


def parse_variant(spec: str) -> tuple[str, dict]:
    name, _, assignments = spec.partition(":")
    env = dict(a.split("=", 1) for a in assignments.split(" ") if "=" in a) if assignments else {}
    return name, env


def summarise(samples: list[tuple[float, int, float]]) -> tuple[float, float, float, str]:
    """(median seconds, median peak MiB, median CPU seconds, a printable line)."""
    times = [t for t, _, _ in samples]
    peaks = [m / 2**20 for _, m, _ in samples]
    cpus = [c for _, _, c in samples]
    t, m, c = statistics.median(times), statistics.median(peaks), statistics.median(cpus)
    return t, m, c, (f"time to rendered page {t * 1000:6.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, "
                     f"n={len(times)})   CPU {c:4.2f} s   peak RSS of process tree {m:5.0f} MiB (max {max(peaks):.0f})")


def report(results: dict[str, list], floor: str = "floor", nicegui: str = "NiceGUI") -> None:
    figures = {name: summarise(samples) for name, samples in results.items() if samples}
    for name, (_, _, _, line) in figures.items():
        print(f"{name:22s} {line}", flush=True)
    ft, fm, fc, _ = figures[floor]
    print()
    for name, (t, m, c, _) in figures.items():
        if name in (floor, nicegui):
            continue
        line = (f"{name:22s} vs floor: time {t / ft:.2f}x (target <= 1.25)   CPU {c / fc:.2f}x   "
                f"memory {m - fm:+5.0f} MiB (target <= +60)")
        if nicegui in figures:
            nt, nm, _, _ = figures[nicegui]
            line += f"   vs NiceGUI: time {t / nt:.2f}x (target <= 0.40)   memory {m / nm:.2f}x (target < 1.00)"
        print(line, flush=True)
    if nicegui in figures:
        nt, nm, nc, _ = figures[nicegui]
        print(f"{nicegui:22s} vs floor: time {nt / ft:.2f}x   CPU {nc / fc:.2f}x   memory {nm - fm:+5.0f} MiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 runs each instead of 5")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--nicegui-venv", type=Path, default=Path(tempfile.gettempdir()) / "nicegui-bench-venv")
    ap.add_argument("--no-nicegui", action="store_true", help="measure the floor and Pipedeck only")
    ap.add_argument("--variant", action="append", default=[], metavar="SPEC",
                    help="'name:KEY=VALUE ...': also measure Pipedeck with this environment (repeatable)")
    ap.add_argument("--before", type=Path, default=None, metavar="CHECKOUT",
                    help="also measure the Pipedeck of another checkout (e.g. a worktree of main), same Python")
    args = ap.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    xvfb_bin = shutil.which("Xvfb")
    if not xvfb_bin:
        print("Xvfb is needed (Debian package xvfb)")
        return 1
    have_nicegui = not args.no_nicegui and ensure_nicegui(args.nicegui_venv)
    floor_check = "document.body.innerText.includes('Hello from the floor')"
    contenders = {"floor": lambda d: script_run(d, sys.executable, FLOOR_APP, floor_check, same_flags=True),
                  "Pipedeck": lambda d: pipedeck_run(d, {})}
    if args.before:
        contenders["Pipedeck before"] = lambda d: pipedeck_run(d, {}, args.before.resolve())
    for spec in args.variant:
        name, env = parse_variant(spec)
        contenders[f"Pipedeck {name}"] = lambda d, env=env: pipedeck_run(d, env)
    if have_nicegui:
        contenders["NiceGUI"] = lambda d: script_run(d, str(args.nicegui_venv / "bin" / "python"), NICEGUI_APP,
                                                     "document.body.innerText.includes('Hello from NiceGUI')")
    else:
        print("NiceGUI baseline unavailable (no uv or no network): floor and Pipedeck only", flush=True)
    results: dict[str, list] = {name: [] for name in contenders}
    xvfb = Xvfb(xvfb_bin)
    try:
        # Interleaved, so warm file caches and background load treat every app alike; one warm-up round first.
        for round_ in range(runs + 1):
            for name, run in contenders.items():
                sample = run(xvfb.display)
                if round_:
                    results[name].append(sample)
    finally:
        xvfb.stop()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of {runs} interleaved runs")
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Real parts for the native-window tests: an Xvfb display, the app's window process, X11 window handling."""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support import ROOT, free_port

ARTIFACTS = ROOT / "test-artifacts"


class Xvfb:
    """A virtual X display of the test's own (`:N` with the first free N from 90). -noreset: like a desktop's X
    server, which always has clients (a window manager), it does not reset between the tests' windows."""

    def __init__(self, xvfb: str, size: str = "1600x1000x24", reset: bool = False):
        self.number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                           and not Path(f"/tmp/.X{n}-lock").exists())
        self.display = f":{self.number}"
        self.proc = subprocess.Popen([xvfb, self.display, "-screen", "0", size, "-nolisten", "tcp",
                                      *([] if reset else ["-noreset"])],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not Path(f"/tmp/.X11-unix/X{self.number}").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb {self.display} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def recorder(folder: Path, name: str) -> tuple[str, Path]:
    """A command that writes its argument to a file: stands in for the system's browser or file manager."""
    log = folder / f"{name}.log"
    script = folder / f"record-{name}"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    script.chmod(0o755)
    return str(script), log


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class WindowProcess:
    """`python -m desktop` (the window, the default command) on a display, with DevTools open on a loopback port."""

    def __init__(self, display: str, data_dir: Path, downloads_dir: Path, env: dict | None = None, args: tuple = ()):
        self.data_dir, self.downloads_dir = Path(data_dir), Path(downloads_dir)
        self.args = tuple(args)
        self.port, self.cdp_port = free_port(), free_port()
        # QtWebEngine's own switch for the DevTools protocol: lets Playwright read the real window's DOM.
        self.env = {**os.environ, "DISPLAY": display, "QTWEBENGINE_REMOTE_DEBUGGING": f"127.0.0.1:{self.cdp_port}",
                    **(env or {})}
        self.output: list[str] = []
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "WindowProcess":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "desktop", "--port", str(self.port), "--data-dir", str(self.data_dir),
             "--downloads-dir", str(self.downloads_dir), *self.args],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=lambda: self.output.extend(self.proc.stdout), daemon=True).start()
        wait_for(lambda: self.seen("window loaded") or self.proc.poll() is not None, timeout, "the window to load")
        assert self.proc.poll() is None, "the window process ended:\n" + self.text()
        return self

    def text(self) -> str:
        return "".join(self.output)

    def seen(self, pattern: str) -> bool:
        return bool(re.search(pattern, self.text()))

    def wait(self, timeout: float = 15.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def x_windows(display: str, name: str = "^Pipedeck$") -> list[int]:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], env={**os.environ, "DISPLAY": display},
                           capture_output=True, text=True)
    return [int(w) for w in found.stdout.split()]


def x_geometry(display: str, window: int) -> tuple[int, int]:
    out = subprocess.run(["xdotool", "getwindowgeometry", str(window)], env={**os.environ, "DISPLAY": display},
                         capture_output=True, text=True, check=True).stdout
    w, h = re.search(r"Geometry: (\d+)x(\d+)", out).groups()
    return int(w), int(h)


def x_position(display: str, window: int) -> tuple[int, int]:
    out = subprocess.run(["xdotool", "getwindowgeometry", str(window)], env={**os.environ, "DISPLAY": display},
                         capture_output=True, text=True, check=True).stdout
    x, y = re.search(r"Position: (-?\d+),(-?\d+)", out).groups()
    return int(x), int(y)


class _ClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


def close_window(display: str, window: int) -> None:
    """What the window manager does when the user clicks the close button: send WM_DELETE_WINDOW.

    (`xdotool windowclose` destroys the X window instead, which no real user can do.)"""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype, x11.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    x11.XInternAtom.restype, x11.XInternAtom.argtypes = ctypes.c_ulong, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(display.encode())
    assert dpy, f"cannot open X display {display}"
    try:
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = window
        event.xclient.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", False)
        event.xclient.format = 32
        event.xclient.data[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", False)
        x11.XSendEvent(dpy, window, False, 0, ctypes.byref(event))
        x11.XFlush(dpy)
    finally:
        x11.XCloseDisplay(dpy)


def screenshot(display: str, name: str, min_colours: int = 50, timeout: float = 10) -> tuple[Path, int]:
    """The whole screen as a PNG under test-artifacts/, and how many distinct colours it has.

    The page's DOM is ready before Qt has composited it onto the X screen (on a busy machine, up to seconds
    later), so a blank capture is taken again until the window shows or `timeout` passes."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    env = {**os.environ, "DISPLAY": display}
    deadline = time.monotonic() + timeout
    while True:
        subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, timeout=30)
        colours = int(subprocess.run(["identify", "-format", "%k", str(path)], capture_output=True, text=True,
                                     check=True, timeout=30).stdout)
        if colours > min_colours or time.monotonic() > deadline:
            return path, colours
        time.sleep(0.25)


def crop(path: Path, name: str, box: tuple[int, int, int, int]) -> Path:
    """A part (x, y, width, height in screen pixels) of a screenshot, as its own PNG under test-artifacts/."""
    x, y, w, h = box
    out = ARTIFACTS / f"{name}.png"
    subprocess.run(["convert", str(path), "-crop", f"{w}x{h}+{x}+{y}", "+repage", str(out)], check=True, timeout=30)
    return out


def own_output(line: str) -> bool:
    """A line Pipedeck prints itself (its log lines and announcements), as opposed to Qt's or Chromium's.
    (Chromium's "DevTools listening" is there only because the tests turn the DevTools port on.)"""
    own = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \| |Pipedeck |WARNING: --no-auth|DevTools listening on ws://"
    return bool(re.match(own, line)) or not line.strip()


class CdpPage:
    """The page in the app's window over the DevTools protocol, with real mouse and keyboard input events.

    (Playwright's connect_over_cdp needs browser-context commands QtWebEngine does not implement.)"""

    def __init__(self, cdp_port: int, url_prefix: str):
        import httpx
        from websockets.sync.client import connect

        targets = httpx.get(f"http://127.0.0.1:{cdp_port}/json", timeout=10).json()
        pages = [t for t in targets if t["type"] == "page" and t["url"].startswith(url_prefix)]
        assert len(pages) == 1, targets
        self._connection = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.ws = self._connection.__enter__()
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def eval(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 15.0):
        return wait_for(lambda: self.eval(expression), timeout, expression)

    def url(self) -> str:
        return self.eval("location.href")

    def click(self, selector: str) -> None:
        """A click where a person would click: once nothing lies over the element's middle (a toast from an earlier
        step can, for a few seconds), as Playwright waits for an element to receive events."""
        box = self.wait(f"""(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;
            e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
            const x = r.x + r.width / 2, y = r.y + r.height / 2, hit = document.elementFromPoint(x, y);
            return hit && e.contains(hit) ? [x, y] : null; }})()""")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type(self, selector: str, text: str) -> None:
        self.click(selector)
        self.call("Input.insertText", text=text)

    def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13,
                      **({"text": "\r"} if kind == "keyDown" else {}))

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

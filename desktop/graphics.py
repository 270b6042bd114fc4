"""Which window toolkit this platform uses, and whether OpenGL works before Qt is asked to use it.

On Linux, Qt WebEngine aborts the whole process ("Could not initialize GLX") when GL does not work: nixpkgs' Qt
on a distribution other than NixOS finds no GL driver (the nixGL problem), and so do some remote or virtual
displays. A GLX (or, on Wayland, EGL) probe through ctypes, asking libglvnd for a driver, runs first: when it
fails Qt draws in software instead (said in the log file, not the terminal: the window works), and when even
the GL libraries cannot load the app opens in the browser with the one-line reason. On macOS the window is
pywebview's Cocoa backend (WKWebView): nixpkgs' Qt there has no WebEngine.
"""
from __future__ import annotations

import ctypes
import os
import sys
import time

from loguru import logger

from server import logs

# Environment for Qt without GL: no GLX/EGL integration on X11, Qt Quick's software renderer, Chromium
# compositing on the CPU. Checked under Xvfb with the GL vendor libraries made unloadable (tests/test_graphics.py).
SOFTWARE_ENV = {"QT_XCB_GL_INTEGRATION": "none", "QT_QUICK_BACKEND": "software"}
SOFTWARE_CHROMIUM_FLAG = "--disable-gpu"
GLX_VENDOR = 1
EGL_DEFAULT_DISPLAY = None


def toolkit(platform: str | None = None) -> str:
    """pywebview's GUI backend: "cocoa" (WKWebView) on macOS, "qt" (Qt WebEngine) elsewhere."""
    return "cocoa" if (platform or sys.platform) == "darwin" else "qt"


def cocoa_unavailable() -> str | None:
    """Why pywebview's Cocoa backend cannot load (pyobjc missing), or None."""
    try:
        import AppKit  # noqa: F401  (pyobjc-framework-Cocoa)
        import WebKit  # noqa: F401  (pyobjc-framework-WebKit)
        import webview  # noqa: F401
    except ImportError as e:
        return f"the window toolkit (pywebview with Cocoa/WebKit through pyobjc) could not load: {e}"
    return None


def _wayland() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "wayland")
    return bool(os.environ.get("WAYLAND_DISPLAY")) and platform.startswith("wayland")


def _glx_problem() -> str | None:
    """None when libGL has a GLX vendor library for $DISPLAY (what Qt's xcb_glx needs), else what failed.
    Asking for the client vendor string loads that library without starting the driver: it stays loaded for Qt."""
    x11, gl = ctypes.CDLL("libX11.so.6"), ctypes.CDLL("libGL.so.1")
    x11.XOpenDisplay.restype, x11.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    gl.glXGetClientString.restype, gl.glXGetClientString.argtypes = ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int]
    display = x11.XOpenDisplay(None)
    for _ in range(10):
        # An X server with no other client resets itself when the last one leaves (Xvfb without -noreset, a bare
        # X session): window.unavailable()'s display check just before was such a client, and a connection made
        # during the reset is dropped (ECONNRESET). Ask again, briefly, before calling the display unanswering.
        if display:
            break
        time.sleep(0.05)
        display = x11.XOpenDisplay(None)
    if not display:
        return "the X display does not answer"
    try:
        return None if gl.glXGetClientString(display, GLX_VENDOR) else "libGL finds no GLX driver for this display"
    finally:
        x11.XCloseDisplay(display)


def _egl_problem() -> str | None:
    """None when libEGL has a vendor for the default display (what Qt on Wayland needs), else what failed.
    eglGetDisplay alone: eglInitialize would start the driver (a second, here)."""
    egl = ctypes.CDLL("libEGL.so.1")
    egl.eglGetDisplay.restype, egl.eglGetDisplay.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    return None if egl.eglGetDisplay(EGL_DEFAULT_DISPLAY) else "libEGL finds no driver for the display"


def gl_problem() -> str | None:
    """What keeps Qt from using OpenGL on this display, or None when it works."""
    try:
        # Qt's own libraries load libGL/libEGL/libX11: ctypes then finds exactly those (nixpkgs' or the system's).
        from PySide6 import QtGui  # noqa: F401
        return _egl_problem() if _wayland() else _glx_problem()
    except (ImportError, OSError, AttributeError) as e:
        return f"the GL libraries could not load ({e})"


def use_software_rendering() -> None:
    """Make Qt and Qt WebEngine draw on the CPU (set before QApplication exists)."""
    os.environ.update(SOFTWARE_ENV)
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if SOFTWARE_CHROMIUM_FLAG not in flags.split():
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} {SOFTWARE_CHROMIUM_FLAG}".strip()


def prepare_qt() -> str | None:
    """Before the Qt window: keep GL when it works, else switch to software rendering (logged, see below).
    Returns why no window can open (the GL libraries themselves are missing), or None."""
    if os.environ.get("QT_XCB_GL_INTEGRATION") == "none" or os.environ.get("PIPEDECK_GL") == "on":
        return None  # the user chose: software already, or GL through nixGL / a driver the probe cannot see
    problem = gl_problem()
    if problem is None:
        return None
    if problem.startswith("the GL libraries could not load"):
        return problem
    use_software_rendering()
    # Not worth a line in the terminal: the window works. The log file keeps why (the terminal too with --verbose).
    logger.bind(**{logs.QUIET: True}).info(
        "OpenGL does not work here ({}); drawing the window in software. For GPU rendering with Nix on a "
        "distribution other than NixOS, see the README's nixGL note.", problem)
    return None


def unavailable(qt_unavailable) -> str | None:
    """Why no native window can open here, or None: Cocoa's imports on macOS; on Linux `qt_unavailable()`
    (window.unavailable: Qt WebEngine and the display) and then the GL probe."""
    if toolkit() == "cocoa":
        return cocoa_unavailable()
    return qt_unavailable() or prepare_qt()

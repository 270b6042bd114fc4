"""The environment Qt WebEngine (Chromium inside the window) starts with: quiet logs, WebGL under software GL, lean.

Every setting here was measured with bench/bench_window.py under Xvfb (Mesa llvmpipe); the README's window section
lists the figures and which choices only a machine with a real GPU can confirm."""
from __future__ import annotations

import glob
import os
import sys

VERBOSE_ENV = "PIPEDECK_VERBOSE"
FLAGS_ENV = "QTWEBENGINE_CHROMIUM_FLAGS"
# Qt's own categories (Vulkan, GLX, GPU vendor, WebEngine context) and the page's console ("js") stay silent;
# a rule the user set in QT_LOGGING_RULES is kept after these, so it wins.
QUIET_QT_RULES = "*=false;js=false"
# Chromium's own log (D-Bus, GPU and sandbox messages on every launch): only fatal errors, unless --verbose.
QUIET_CHROMIUM = ("--log-level=3", "--disable-logging")
# Under software GL Chromium blocklists WebGL (the graph viewer then shows "your device does not support WebGL").
# Lifting the blocklist alone also turns on GPU compositing and raster on the CPU's GL, +45 MiB for nothing;
# keeping those two in software leaves WebGL working at the memory of the blocklisted default.
SOFTWARE_GL = ("--ignore-gpu-blocklist", "--disable-gpu-compositing", "--disable-gpu-rasterization")


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def software_gl() -> bool:
    """True where OpenGL can only be Mesa's CPU renderer: no GPU render node, or software forced by the user.

    (A GL probe could say more, but would cost a GL context at every launch; this check costs a directory read.)"""
    if not sys.platform.startswith("linux"):
        return False
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE", "") not in ("", "0"):
        return True
    return not any(os.access(node, os.R_OK | os.W_OK) for node in glob.glob("/dev/dri/renderD*"))


def add_flags(*flags: str) -> None:
    """Append Chromium switches to what the user (or a wrapper) already set; a switch given already is kept as is."""
    current = os.environ.get(FLAGS_ENV, "").split()
    names = {f.split("=", 1)[0] for f in current}
    extra = [f for f in flags if f.split("=", 1)[0] not in names]
    if extra:
        os.environ[FLAGS_ENV] = " ".join([*current, *extra])


def prepare() -> None:
    """Set the environment before Qt starts; Chromium reads it once, when the first web view is created."""
    if not verbose():
        rules = os.environ.get("QT_LOGGING_RULES", "")
        os.environ["QT_LOGGING_RULES"] = f"{QUIET_QT_RULES};{rules}" if rules else QUIET_QT_RULES
        add_flags(*QUIET_CHROMIUM)
    if software_gl():
        add_flags(*SOFTWARE_GL)
    # Chromium's sandbox refuses to start as root, which is how CI containers run; a normal user keeps the sandbox.
    if os.geteuid() == 0:
        add_flags("--no-sandbox")

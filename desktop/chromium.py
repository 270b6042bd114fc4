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


def verbose(env=os.environ) -> bool:
    return env.get(VERBOSE_ENV, "") not in ("", "0")


def software_gl(env=os.environ) -> bool:
    """True where OpenGL can only be Mesa's CPU renderer: no GPU render node, or software forced by the user.

    (A GL probe could say more, but would cost a GL context at every launch; this check costs a directory read.)"""
    if not sys.platform.startswith("linux"):
        return False
    if env.get("LIBGL_ALWAYS_SOFTWARE", "") not in ("", "0"):
        return True
    return not any(os.access(node, os.R_OK | os.W_OK) for node in glob.glob("/dev/dri/renderD*"))


def add_flags(*flags: str, env=os.environ) -> None:
    """Append Chromium switches to what the user (or a wrapper) already set; a switch given already is kept as is."""
    current = env.get(FLAGS_ENV, "").split()
    names = {f.split("=", 1)[0] for f in current}
    extra = [f for f in flags if f.split("=", 1)[0] not in names]
    if extra:
        env[FLAGS_ENV] = " ".join([*current, *extra])


def prepare(env=os.environ) -> None:
    """Set the environment before Qt starts; Chromium reads it once, when the first web view is created. (`env`: the
    environment to set up, this process's by default; bench/bench_window.py gives its floor the same.)"""
    if not verbose(env):
        rules = env.get("QT_LOGGING_RULES", "")
        env["QT_LOGGING_RULES"] = f"{QUIET_QT_RULES};{rules}" if rules else QUIET_QT_RULES
        add_flags(*QUIET_CHROMIUM, env=env)
    if software_gl(env):
        add_flags(*SOFTWARE_GL, env=env)
    # Chromium's sandbox refuses to start as root, which is how CI containers run; a normal user keeps the sandbox.
    if os.geteuid() == 0:
        add_flags("--no-sandbox", env=env)

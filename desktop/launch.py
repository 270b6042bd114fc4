"""One launch: own the data folder (or hand over to the Pipedeck that does), serve, show, shut down cleanly."""
from __future__ import annotations

import signal
import sys
import threading
import time

import apsw
from loguru import logger

from server import logs
from server.config import Config
from server.files import storage_problem

from . import dev, startup_gc
from .browser import open_in_browser, remove_opener
from .instance import InstanceLock, ShowChannel, ask_to_show, running_instance, unusable_folder
from .server import AppServer

def run(cfg: Config, mode: str) -> int:
    """Exit code of a launch in `mode`: window (native window), browser (default browser) or serve (headless)."""
    lock = InstanceLock(cfg.data_dir)
    try:
        owner = lock.acquire()
    except OSError as e:
        print(unusable_folder(cfg.data_dir, e), file=sys.stderr, flush=True)
        return 1
    if not owner:
        return join_running(cfg, mode)
    try:
        return _run_owner(cfg, mode, lock)
    finally:
        lock.release()


class Startup:
    """Starts the server and announces it; in window mode this runs in a thread while the window appears."""

    def __init__(self, cfg: Config, lock: InstanceLock, channel: ShowChannel):
        self.cfg, self.lock, self.channel = cfg, lock, channel
        self.server: AppServer | None = None
        self.restarter: dev.Restarter | None = None
        self.error: str | None = None
        self.done = threading.Event()
        # Set once the window's QApplication exists (at once without a window). Building the app is ~0.3 s of Python,
        # and only one thread runs Python at a time: built while Qt loads, it delayed the window by ~0.15 s. Built
        # after, it overlaps Qt's own (C++) start-up of the web view, before the page is asked for (bench_window.py).
        self.may_build = threading.Event()

    def listen(self) -> None:
        """Bind the port now, on the caller's thread: from here on the page can be asked for."""
        try:
            self.server = AppServer(self.cfg)
        except OSError as e:
            self.error = f"Pipedeck could not start its server: {e}"
            self.done.set()

    def run(self) -> None:
        if self.server is None:
            return
        try:
            self.server.start(self.may_build)
            self.lock.publish(self.cfg.port)
            try:
                self.channel.start()
            except OSError as e:
                # Not fatal: the app works, only a second launch cannot bring this one forward.
                logger.warning("later launches will not be able to reach this one: {}", e)
            if dev.enabled():  # --dev: a change under server/ restarts this server in place
                self.restarter = dev.Restarter(self)
                self.restarter.start()
            print(f"Pipedeck ready: {self.cfg.bootstrap_url}", flush=True)
        except (OSError, apsw.Error) as e:
            storage = storage_problem(e)
            self.error = unusable_folder(self.cfg.data_dir, e) if storage else f"Pipedeck could not start its server: {e}"
        except RuntimeError as e:
            self.error = f"Pipedeck could not start its server: {e}"
        finally:
            startup_gc.resume()
            self.done.set()

    def stop(self) -> None:
        if self.restarter is not None:
            self.restarter.stop()
        self.channel.stop()
        if self.server is not None:
            self.server.stop()


def _native_windows(cfg: Config):
    """The window manager of this launch, or None (and the reason, on stderr) when the toolkit cannot start."""
    from . import graphics
    from .window import NativeWindows, unavailable

    # Graphics (issue 11, desktop/graphics.py): Cocoa on macOS; on Linux a GL probe that switches Qt to software.
    logs.log_to_file(cfg.data_dir)  # the probe's finding goes there (the server, starting meanwhile, adds it too)
    if why := graphics.unavailable(unavailable):
        print(f"Pipedeck cannot open its window: {why}.\nOpening it in your default browser instead "
              f"(`./pipedeck --browser` does this directly; the README lists what the window needs).",
              file=sys.stderr, flush=True)
        return None
    return NativeWindows(cfg)


def _run_owner(cfg: Config, mode: str, lock: InstanceLock) -> int:
    windows = None
    startup = Startup(cfg, lock, ShowChannel(cfg.data_dir, lambda how: _show(cfg, windows, how)))
    stop = _stop_on_signals()
    startup.listen()
    # The server starts in a thread while the window toolkit loads: each takes about a second or two.
    starting = threading.Thread(target=startup.run, name="pipedeck-startup")
    starting.start()
    try:
        if mode == "window":
            windows = _native_windows(cfg)
        if windows is not None:
            from . import window

            windows.stopping = stop  # a signal during start-up closes the window as soon as it exists
            window.run(cfg, windows, startup)
        else:
            startup.may_build.set()
            startup.done.wait()
            if startup.error is None:
                if mode != "serve":
                    open_in_browser(cfg)
                stop.wait()
    finally:
        startup.may_build.set()  # the window failed or closed early: let the start-up thread finish (or fail)
        starting.join()
        startup.stop()
        remove_opener(cfg)
    if startup.error:
        print(startup.error, file=sys.stderr, flush=True)
        return 1
    print("Pipedeck stopped.", flush=True)
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _show(cfg: Config, windows, how: str) -> str:
    """Answer a later launch: another window when this process has them, else the default browser."""
    if how == "window" and windows is not None:
        return windows.show_another()
    open_in_browser(cfg)
    return "browser"


def join_running(cfg: Config, mode: str) -> int:
    """Another Pipedeck owns this data folder: never start a second server (two writers on one database)."""
    info = None
    deadline = time.monotonic() + 10
    while info is None and time.monotonic() < deadline:
        info = running_instance(cfg.data_dir)  # empty while the other one is still starting its server
        if info is None:
            time.sleep(0.1)
    where = f"http://127.0.0.1:{info['port']} (pid {info['pid']})" if info else f"data folder {cfg.data_dir}"
    if mode == "serve":
        print(f"Pipedeck is already running on {where} with {cfg.data_dir}; not starting a second server. "
              f"Stop it first, or use another --data-dir.", file=sys.stderr)
        return 1
    answer = ask_to_show(cfg.data_dir, mode)
    if answer is None:
        print(f"Another Pipedeck is using {cfg.data_dir} but does not answer. Close it (or end process "
              f"{info['pid'] if info else '?'}) and try again.", file=sys.stderr)
        return 1
    shown = {"window": "opened a new window", "browser": "opened it in your browser"}.get(answer["shown"], "")
    print(f"Pipedeck is already running on {where}{': ' + shown if shown else ''}.", flush=True)
    return 0

"""`--dev`: workflow and app files reload in place (server/engine/loader.py, server/app_files.py); any other change
under server/ restarts the server inside this process on the same port and secret, and the open window reloads its
page once it reconnects."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from loguru import logger

from server.config import ROOT

SERVER_DIR = ROOT / "server"
IN_PLACE = (SERVER_DIR / "workflows", SERVER_DIR / "apps")  # reloaded in place by the app itself
ENV = "PIPEDECK_DEV"


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def restarts_server(path: str) -> bool:
    p = Path(path)
    return p.suffix == ".py" and not p.name.startswith(".") and not (
        p.parent in IN_PLACE and p.name != "__init__.py")


def fresh_server_modules() -> None:
    """Forget the app's modules, so the next create_app imports the code as it is now on disk."""
    for name in [n for n in sys.modules if n == "server" or n.startswith("server.")]:
        del sys.modules[name]


class Restarter:
    """Watches server/ in a thread; `startup` is the launch's Startup, whose server it replaces."""

    def __init__(self, startup):
        self.startup, self.stop_event, self.lock = startup, threading.Event(), threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self.follow, name="pipedeck-dev", daemon=True).start()

    def follow(self) -> None:
        from watchfiles import watch

        for changes in watch(SERVER_DIR, watch_filter=lambda _c, p: restarts_server(p), step=50, debounce=400,
                             stop_event=self.stop_event):
            logger.info("server code changed ({}): restarting the server", ", ".join(sorted({p for _, p in changes})))
            self.restart()

    def restart(self) -> None:
        from .server import AppServer

        with self.lock:
            if self.stop_event.is_set():
                return
            self.startup.server.stop()
            fresh_server_modules()
            try:
                server = AppServer(self.startup.cfg)
                server.start()
            except Exception:  # a typo in the server: say where, and wait for the next save
                logger.exception("the changed server code does not start; fix it and save again")
                return
            self.startup.server = server
            print(f"Pipedeck restarted: {self.startup.cfg.bootstrap_url}", flush=True)

    def stop(self) -> None:
        with self.lock:
            self.stop_event.set()

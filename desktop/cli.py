"""Command line: open the window (default), serve headless, or open in the browser."""
from __future__ import annotations

import argparse
import signal
import threading
import webbrowser

from server.config import Config

from .server import AppServer, choose_port


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="pipedeck", description="Pipedeck: calm, resumable data workflows.")
    p.add_argument("command", nargs="?", default="window", choices=["window", "serve"],
                   help="window (default): open the app; serve: run the server only")
    p.add_argument("--port", type=int, default=None, help="port to serve on (default 5001 when free)")
    p.add_argument("--data-dir", default=None, help="where the database lives (env PIPEDECK_DATA_DIR)")
    p.add_argument("--downloads-dir", default=None, help="where workflows write files (env PIPEDECK_DOWNLOADS_DIR)")
    p.add_argument("--browser", action="store_true", help="open in the default browser instead of a window")
    return p.parse_args(argv)


def make_config(args) -> Config:
    kw = {}
    if args.data_dir:
        kw["data_dir"] = args.data_dir
    if args.downloads_dir:
        kw["downloads_dir"] = args.downloads_dir
    cfg = Config(**kw)
    cfg.port = choose_port(cfg, args.port)
    return cfg


def serve(cfg: Config, open_browser: bool = False) -> int:
    server = AppServer(cfg)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"Pipedeck ready: {cfg.bootstrap_url}", flush=True)
    if open_browser:
        webbrowser.open(cfg.bootstrap_url)
    stop.wait()
    server.stop()
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = make_config(args)
    if args.command == "serve":
        return serve(cfg)
    return serve(cfg, open_browser=True)

"""Command line: open the window (default), serve headless, or open in the browser."""
from __future__ import annotations

import argparse
import os
import sys

from server import logs
from server.config import Config
from server.security import BindRefused, check_bind

from . import ollama_service
from . import dev, launch, scaffold
from .chromium import VERBOSE_ENV, verbose
from .server import choose_port


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="pipedeck", description="Pipedeck: calm, resumable data workflows.")
    p.add_argument("command", nargs="?", default="window",
                   choices=["window", "serve", "install-launcher", "uninstall-launcher", "new-workflow"],
                   help="window (default): open the app; serve: run the server only; install-launcher / "
                        "uninstall-launcher: add or remove Pipedeck's launchers (applications menu, desktop icon, "
                        "macOS app); new-workflow TITLE: write a starter workflow file into the data folder's "
                        "workflows/")
    p.add_argument("title", nargs="?", help="new-workflow only: the workflow's title, e.g. \"Keyword notes\"")
    p.add_argument("--port", type=int, default=None, help="port to serve on (default 5001 when free)")
    p.add_argument("--data-dir", default=None, help="where the database lives (env PIPEDECK_DATA_DIR)")
    p.add_argument("--downloads-dir", default=None, help="where workflows write files (env PIPEDECK_DOWNLOADS_DIR)")
    p.add_argument("--browser", action="store_true", help="open in the default browser instead of a window")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; others need --lan)")
    p.add_argument("--lan", action="store_true", help="allow other machines (with --host 0.0.0.0 or a LAN address); "
                   "every client then needs the launch secret")
    p.add_argument("--lan-name", action="append", default=[], metavar="NAME",
                   help="an extra name or address LAN clients use for this machine (repeatable)")
    p.add_argument("--dev", action="store_true", help="reload workflow and app files when saved and restart the server "
                   "when other code under server/ changes")
    p.add_argument("--no-auth", action="store_true", help="FOR TESTS ONLY: drop the launch secret")
    p.add_argument("--verbose", action="store_true",
                   help="let Qt and Chromium (inside the window) print their own logs (env PIPEDECK_VERBOSE=1)")
    p.add_argument("--desktop", action=argparse.BooleanOptionalAction, default=None,
                   help="install-launcher: also put an icon on the desktop (asked when not given and interactive)")
    return p.parse_args(argv)


def make_config(args) -> Config:
    kw = {}
    if args.data_dir:
        kw["data_dir"] = args.data_dir
    if args.downloads_dir:
        kw["downloads_dir"] = args.downloads_dir
    cfg = Config(**kw, host=args.host, lan=args.lan, lan_names=tuple(args.lan_name), auth=not args.no_auth)
    try:
        check_bind(cfg)
    except BindRefused as exc:
        raise SystemExit(f"pipedeck: {exc}") from None
    if not cfg.auth:
        print("WARNING: --no-auth is FOR TESTS ONLY. Any program or web page on this machine can drive Pipedeck "
              "and read its data.", file=sys.stderr, flush=True)
    cfg.port = choose_port(cfg, args.port)
    return cfg


def choose_mode(args) -> str:
    """serve, browser or window (the launch falls back to the browser when the window toolkit cannot start)."""
    if args.command == "serve":
        return "serve"
    return "browser" if args.browser else "window"


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.command in ("install-launcher", "uninstall-launcher"):
        from . import launcher  # not needed to open the app

        return launcher.main(args.command, desktop=args.desktop)
    if args.command == "new-workflow":
        return scaffold.main(args.title, Config(**({"data_dir": args.data_dir} if args.data_dir else {})).data_dir)
    if args.verbose:
        os.environ[VERBOSE_ENV] = "1"  # read by the window's toolkit set-up, and by anything it starts
    logs.terminal(verbose)
    if args.dev:
        os.environ[dev.ENV] = "1"  # read by the app (server/app.py) and the launch, also after a restart
    cfg = make_config(args)
    mode = choose_mode(args)
    with ollama_service.maybe_start(cfg):  # the Nix launcher's pinned Ollama, when none answers
        return launch.run(cfg, mode)

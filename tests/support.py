"""Real parts for tests: the app as a separate server process, and tools that must exist in CI."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from desktop.server import free_port  # noqa: F401 (the launcher's own, re-exported for tests)
from server.security import TOKEN_HEADER

ROOT = Path(__file__).resolve().parents[1]
IN_CI = bool(os.environ.get("CI"))
CHROMIUM = os.environ.get("PIPEDECK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def require(tool: str, why: str) -> str:
    """The tool's path; a missing tool skips the test on a laptop and fails it in CI."""
    path = tool if os.path.isabs(tool) and os.access(tool, os.X_OK) else shutil.which(tool)
    if path:
        return path
    message = f"{tool} is needed {why}; install it (see .ci/run)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


class ServerProcess:
    """`python -m desktop serve` as its own process, the way `./pipedeck serve` runs it; `root` runs another copy of
    the code (tests that edit the server's own files edit a copy)."""

    def __init__(self, data_dir: Path, downloads_dir: Path, env: dict | None = None, args: tuple = (),
                 root: Path = ROOT):
        self.data_dir, self.downloads_dir, self.root = Path(data_dir), Path(downloads_dir), Path(root)
        self.env = {**os.environ, **(env or {})}
        self.args = tuple(args)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.ready_url = ""
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        self.output: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        cmd = [sys.executable, "-m", "desktop", "serve", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--downloads-dir", str(self.downloads_dir), *self.args]
        self.output = []
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        ready = threading.Event()

        def pump():
            with open(self.log_path, "a") as log:
                for line in self.proc.stdout:
                    log.write(line)
                    log.flush()
                    self.output.append(line)
                    if m := re.search(r"Pipedeck ready: (\S+)", line):
                        self.ready_url = m.group(1)
                        ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("server did not start:\n" + "".join(self.output))
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code, self.proc = self.proc.returncode, None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> "ServerProcess":
        self.stop()
        return self.start()

    def client(self) -> httpx.Client:
        """An HTTP client that has opened the app's bootstrap URL and sends the page's token, as the window does."""
        c = httpx.Client(base_url=self.url, headers={"Origin": self.url}, timeout=30, follow_redirects=True)
        c.headers[TOKEN_HEADER] = page_token(c.get(self.ready_url).text)
        return c


def code_copy(target: Path) -> Path:
    """A copy of the app's code (desktop/, server/; static/ linked) at `target`, for a server whose files a test edits."""
    for folder in ("desktop", "server"):
        shutil.copytree(ROOT / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
        for path in [target / folder, *(target / folder).rglob("*")]:  # the Nix store's copy is read-only
            path.chmod(path.stat().st_mode | 0o200)
    (target / "static").symlink_to(ROOT / "static")
    return target


def page_token(html: str) -> str:
    """The per-launch CSRF token a page carries for its scripts."""
    m = re.search(r'<meta name="pipedeck-token" content="([^"]+)"', html)
    assert m, "the page carries no CSRF token"
    return m.group(1)


def settled(page, timeout: float = 10000) -> None:
    """Wait until htmx has finished every request and swap on the page (new elements bound to their triggers)."""
    page.wait_for_function(
        "() => window.htmx && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')",
        timeout=timeout)

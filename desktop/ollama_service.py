"""The pinned `ollama serve`, started for the app when none answers and stopped when the app exits.

Only the Nix launcher asks for this (it sets PIPEDECK_START_OLLAMA=1 and puts nixpkgs' ollama on PATH):
from a checkout the user runs their own Ollama, or none, and the app says "LLM offline".
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from loguru import logger

from server.config import Config, url_host

START_ENV = "PIPEDECK_START_OLLAMA"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when an Ollama server answers its version endpoint at `url`."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/version", timeout=timeout) as r:
            return r.status == 200
    except (OSError, ValueError):
        return False


def host_port(url: str) -> str:
    """`OLLAMA_HOST` as `ollama serve` reads it: host:port, brackets for IPv6."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return f"{url_host(host)}:{parts.port or 11434}"


def _die_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to ollama if the app dies without cleaning up (kill -9, crash).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:
        pass


class OllamaService:
    """One `ollama serve` child process with its output appended to a log file."""

    def __init__(self, binary: str, url: str, log_path: Path):
        self.binary, self.url, self.log_path = binary, url, Path(log_path)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "OllamaService":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "OLLAMA_HOST": host_port(self.url)}
        with open(self.log_path, "ab") as log:
            log.write(f"--- pipedeck starts {self.binary} serve on {env['OLLAMA_HOST']}\n".encode())
            log.flush()
            # Own session: the terminal's Ctrl-C reaches the app, which then stops ollama in order.
            self.proc = subprocess.Popen(
                [self.binary, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        logger.info("started ollama serve (pid {}) on {}; log {}", self.proc.pid, self.url, self.log_path)
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.running():
            if answers(self.url, timeout=0.5):
                return True
            time.sleep(0.1)
        return False

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("ollama serve did not stop within {} s; killing it", timeout)
                self.proc.kill()
                self.proc.wait()
        code, self.proc = self.proc.returncode, None
        logger.info("stopped ollama serve (exit {})", code)
        return code


def service_for(cfg: Config) -> OllamaService | None:
    """The service to start for `cfg`, or None when the launcher did not ask, one already answers,
    the address is not this machine's, or no `ollama` program is on PATH."""
    if os.environ.get(START_ENV) != "1":
        return None
    # Imported only when the launcher asks: server.llm loads the app's LLM code, which the window does not wait for.
    from server.llm.host import checked_host

    url = checked_host(cfg.ollama_host)[0]  # as the app's client reads it: "127.0.0.1" means port 11434
    if not is_loopback(url):
        return None
    binary = shutil.which("ollama")
    if binary is None or answers(url):
        return None
    return OllamaService(binary, url, cfg.data_dir / "ollama.log")


@contextmanager
def maybe_start(cfg: Config):
    """Run the body with an Ollama at `cfg.ollama_host`, started here if needed and stopped afterwards.
    The app does not wait for it: it is usable without an LLM and notices when Ollama comes up."""
    service = service_for(cfg)
    if service is not None:
        try:
            service.start()
        except OSError as e:
            logger.warning("could not start ollama serve: {}", e)
            service = None
    try:
        yield service
    finally:
        if service is not None:
            service.stop()

"""The app's server: uvicorn on loopback, in this process, started and stopped on demand."""
from __future__ import annotations

import ipaddress
import resource
import socket
import threading
import time
import urllib.request

import uvicorn
from loguru import logger
from uvicorn.protocols.http.h11_impl import H11Protocol

from server.config import Config
from server.security import CONNECTIONS

from .gate import Gate

# A connection must have sent a request that passed the security checks within this time, or it is closed.
HEADER_TIMEOUT = 10.0


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a header timeout and a cap on connections that have not shown the secret."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        key = (tuple(self.server or ()), tuple(self.client or ()))
        CONNECTIONS.opened(key, transport)
        self.loop.call_later(HEADER_TIMEOUT, CONNECTIONS.expire, key, transport)

    def connection_lost(self, exc) -> None:
        CONNECTIONS.closed((tuple(self.server or ()), tuple(self.client or ())))
        super().connection_lost(exc)


def raise_open_file_limit() -> int:
    """Soft open-file limit up to the hard one (1024, a common default, is a few hundred idle sockets away); the
    soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))
        except (ValueError, OSError) as e:
            logger.warning("could not raise the open-file limit from {}: {}", soft, e)
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def waiting_cap(open_files: int) -> int:
    """How many connections may wait without the secret: a quarter of the open files (the rest is for the app's
    own files and the user's connections), at least 256, at most 4096 (each costs memory)."""
    return min(4096, max(256, open_files // 4))


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def choose_port(cfg: Config, requested: int | None) -> int:
    """The requested port, else 5001 when free, else any free port."""
    if requested:
        return requested
    return cfg.port if port_is_free(cfg.host, cfg.port) else free_port(cfg.host)


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound now: connections wait in its backlog until the server runs."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        address = (host, port)
    except ValueError:  # a name, not an address: ask the resolver (an address skips it and its idna codec)
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class AppServer:
    """uvicorn in a background thread, so the main thread can own the native window.

    Construction binds the port (cheap, on the caller's thread); `start()` serves at once through a Gate and builds
    the app behind it, so a window may load the home page before the app exists."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.gate = Gate()
        self.socket = listen(cfg.host, cfg.port)
        CONNECTIONS.cap = waiting_cap(raise_open_file_limit())
        # Idle keep-alive connections close after 5 s; a request's head may be 32 KB; a chat message 1 MB.
        config = uvicorn.Config(self.gate, host=cfg.host, port=cfg.port, log_level="warning",
                                timeout_graceful_shutdown=3, lifespan="on", ws="websockets-sansio",
                                http=GuardedH11Protocol, timeout_keep_alive=5, h11_max_incomplete_event_size=32 << 10,
                                ws_max_size=1 << 20)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name="pipedeck-server", daemon=True)

    def start(self, may_build: threading.Event | None = None, timeout: float = 20.0) -> None:
        """Serve at once (requests wait at the gate); build the app once `may_build` is set."""
        self.thread.start()
        if may_build is not None:
            may_build.wait()
        try:
            # Imported here, not at the top: the window starts its toolkit before this thread imports the app.
            from server.app import create_app

            self.app = create_app(self.cfg)
        except BaseException as e:
            self.gate.fail(f"Pipedeck could not start: {e}")
            raise
        self.gate.open(self.app)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.started and self.healthy():
                return
            if not self.thread.is_alive():
                raise RuntimeError(f"the server could not start on {self.cfg.base_url}")
            time.sleep(0.02)
        raise RuntimeError(f"the server did not answer on {self.cfg.base_url} within {timeout:.0f} s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.cfg.base_url}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            logger.warning("server did not stop within {} s; forcing", timeout)
            self.server.force_exit = True
            self.thread.join(2)
        self.socket.close()

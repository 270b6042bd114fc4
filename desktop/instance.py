"""One running Pipedeck per data folder: a kernel lock on the folder and a local socket to reach the running one.

The lock is `fcntl.flock` on `data_dir/pipedeck.lock`; the kernel drops it when the process dies, so a crash or
`kill -9` never leaves a stale marker behind. The socket (owner-only, beside the lock) lets a second launch ask the
running instance to show itself, so the per-launch secret never has to leave the process that made it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from loguru import logger

from server.files import private_folder

# AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS); longer data folders get a short path elsewhere.
_MAX_SOCKET_PATH = 100


def socket_path(data_dir: Path) -> Path:
    path = Path(data_dir) / "pipedeck.sock"
    if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
        return path
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR") or Path(tempfile.gettempdir()) / f"pipedeck-{os.getuid()}")
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    if runtime.stat().st_uid != os.getuid():
        raise PermissionError(f"{runtime} belongs to another user; set XDG_RUNTIME_DIR or use a shorter --data-dir")
    digest = hashlib.sha256(os.fsencode(Path(data_dir).resolve())).hexdigest()[:16]
    return runtime / f"pipedeck-{digest}.sock"


class InstanceLock:
    """Held for the whole life of the process that serves `data_dir`; says which port it serves on."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "pipedeck.lock"
        self.fd: int | None = None

    def acquire(self) -> bool:
        """True if this process now owns the data folder, False if a running Pipedeck does."""
        private_folder(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def publish(self, port: int) -> None:
        # Written in place, not by rename: the lock belongs to this inode, a renamed-over file would not be locked.
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps({"pid": os.getpid(), "port": port}).encode(), 0)
        os.fsync(self.fd)

    def release(self) -> None:
        if self.fd is None:
            return
        os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def unusable_folder(data_dir: Path, exc: BaseException) -> str:
    """The one line a launch prints when its data folder cannot be used (read-only, full, not ours)."""
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return (f"Pipedeck cannot use its data folder {data_dir}: {why}. "
            "Make it writable (or free some space), or start with --data-dir pointing elsewhere.")


def running_instance(data_dir: Path) -> dict | None:
    """{"pid", "port"} of the Pipedeck holding `data_dir`, or None when it has not said yet (or none runs)."""
    try:
        info = json.loads((Path(data_dir) / "pipedeck.lock").read_text() or "null")
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "port" in info else None


class ShowChannel:
    """The running instance's end: answers "show yourself" requests from later launches on a Unix socket."""

    def __init__(self, data_dir: Path, on_show: Callable[[str], str]):
        self.path = socket_path(data_dir)
        self.on_show = on_show
        self.sock: socket.socket | None = None

    def start(self) -> None:
        # Only the lock holder gets here, so a socket file left by a killed instance is safe to replace.
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o077)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        sock.listen(4)
        self.sock = sock
        threading.Thread(target=self._serve, name="pipedeck-show", daemon=True).start()

    def _serve(self) -> None:
        while self.sock is not None:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(5)
                    request = json.loads(conn.makefile("r").readline() or "{}")
                    shown = self.on_show(str(request.get("show", "window")))
                    conn.sendall(json.dumps({"shown": shown, "pid": os.getpid()}).encode() + b"\n")
                except Exception:
                    logger.exception("could not answer a second launch")

    def stop(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
            self.path.unlink(missing_ok=True)


def ask_to_show(data_dir: Path, how: str, timeout: float = 10.0) -> dict | None:
    """Ask the running instance to show itself (`how`: window or browser); its answer, or None if it never answers."""
    try:
        path = socket_path(data_dir)
    except OSError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(max(0.5, deadline - time.monotonic()))
                s.connect(str(path))
                s.sendall(json.dumps({"show": how}).encode() + b"\n")
                return json.loads(s.makefile("r").readline())
        except (OSError, ValueError):
            # The running instance may still be starting up: its socket appears a moment after its lock.
            time.sleep(0.1)
    return None

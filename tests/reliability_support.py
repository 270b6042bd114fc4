"""Faults for reliability tests: the server under another user or a file-size limit, and tiny filesystems."""
from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import ServerProcess, require


class WrappedServer(ServerProcess):
    """The server started through a wrapper command (setpriv, prlimit…), exactly as `./pipedeck serve` otherwise."""

    def __init__(self, *a, prefix: list[str], **kw):
        super().__init__(*a, **kw)
        self.prefix = list(prefix)

    def start(self, timeout: float = 30.0):
        real_popen = subprocess.Popen
        prefix = self.prefix

        def popen(cmd, **kw):
            return real_popen([*prefix, *cmd], **kw)

        subprocess.Popen = popen  # only for the duration of ServerProcess.start's own Popen call
        try:
            return super().start(timeout)
        finally:
            subprocess.Popen = real_popen


def as_user(uid: int, gid: int) -> list[str]:
    return [require("setpriv", "to run the app as an ordinary user"), f"--reuid={uid}", f"--regid={gid}",
            "--clear-groups"]


def file_size_limit(limit_bytes: int) -> list[str]:
    # RLIMIT_FSIZE: a write past the limit fails with EFBIG (Python ignores SIGXFSZ), like a disk that is full.
    return [require("prlimit", "to limit file sizes (util-linux)"), f"--fsize={limit_bytes}"]


@contextmanager
def tiny_tmpfs(path: Path, size: str = "256k"):
    """A small tmpfs mounted at `path` (needs the right to mount; skipped with the reason otherwise)."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); disk-full is also covered by the file-size limit")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)

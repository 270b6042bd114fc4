"""Files the app writes and serves: atomic writes, and paths that cannot escape their folder."""
from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


class UnsafePath(ValueError):
    """A path asked for from outside (URL, form) that would leave its folder."""


def inside(base: Path, *parts: str) -> Path:
    """`base/parts…` resolved, refused if it would leave `base` (`..`, absolute parts, NUL bytes, symlinks out)."""
    base = Path(base).resolve()
    for part in parts:
        if not part or "\x00" in part or "\\" in part or os.path.isabs(part):
            raise UnsafePath(f"unsafe path component: {part!r}")
        if any(p in ("..", ".") for p in Path(part).parts):
            raise UnsafePath(f"unsafe path component: {part!r}")
    target = base.joinpath(*parts).resolve()  # resolve() follows symlinks, so one pointing out is caught below
    if target != base and base not in target.parents:
        raise UnsafePath("path leaves its folder")
    return target


@contextmanager
def atomic_path(final: Path, mode: int = 0o600):
    """Yield a temporary path beside `final`; on success it is renamed over `final`, on error removed.

    Readers never see a half-written file under the final name, even if the process is killed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, final)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(final)  # a failed write() names no file; the user needs to know which one
        raise


def atomic_write(final: Path, data: bytes | str, mode: int = 0o600) -> None:
    with atomic_path(final, mode) as tmp:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())


# Errors that come from the disk or folder, not from the app: the user can fix them, so they are told plainly.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def storage_problem(exc: BaseException) -> str | None:
    """A plain sentence for a write that failed because of the disk or folder, or None for any other error."""
    if not isinstance(exc, OSError) or exc.errno not in NO_SPACE | NOT_WRITABLE:
        return None
    where = f" ({Path(exc.filename).parent})" if exc.filename else ""
    if exc.errno in NO_SPACE:
        return (f"The disk is full{where}, so the file could not be written. Nothing half-written was left behind; "
                "free some space and try again.")
    return (f"The folder is read-only{where}, so the file could not be written. Nothing was changed; make the folder "
            "writable (or choose another downloads folder) and try again.")


def human_size(n: int) -> str:
    """A file size for people: 512 bytes, 1.5 MB."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def remove_stale_parts(folder: Path) -> int:
    """Delete temporary `.part` files a killed process left behind; returns how many."""
    count = 0
    for p in Path(folder).rglob(".*.part"):
        p.unlink(missing_ok=True)
        count += 1
    return count

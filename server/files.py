"""Files the app writes and serves: atomic writes, and paths that cannot escape their folder."""
from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import apsw


NAME_MAX, PATH_MAX = 255, 4000  # Linux's limits (bytes) on one name and on a whole path, rounded down


class UnsafePath(ValueError):
    """A path asked for from outside (URL, form) that would leave its folder."""


def inside(base: Path, *parts: str) -> Path:
    """`base/parts…` resolved, refused if it would leave `base` (`..`, absolute parts, NUL bytes, symlinks out)."""
    base = Path(base).resolve()
    for part in parts:
        if not part or "\x00" in part or "\\" in part or os.path.isabs(part):
            raise UnsafePath(f"unsafe path component: {part!r}")
        if any(len(os.fsencode(name)) > NAME_MAX for name in part.split("/")) or len(os.fsencode(part)) > PATH_MAX:
            raise UnsafePath("a name longer than the file system allows")  # ENAMETOOLONG: no such file can exist
        if any(p in ("..", ".") for p in Path(part).parts):
            raise UnsafePath(f"unsafe path component: {part!r}")
    target = base.joinpath(*parts).resolve()  # resolve() follows symlinks, so one pointing out is caught below
    if target != base and base not in target.parents:
        raise UnsafePath("path leaves its folder")
    return target


def private_folder(path: Path) -> Path:
    """`mkdir -p` where every folder it creates is 0700 (mkdir's parents=True would give them the umask's 0755)."""
    path, missing = Path(path), []
    level = path
    while not level.exists() and level != level.parent:
        missing.append(level)
        level = level.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another thread made it a moment ago
            continue
        os.chmod(folder, 0o700)  # mkdir's mode passes through the umask
    return path


@contextmanager
def atomic_path(final: Path, mode: int = 0o600):
    """Yield a temporary path beside `final`; on success it is renamed over `final`, on error removed.

    Readers never see a half-written file under the final name, even if the process is killed."""
    final = Path(final)
    private_folder(final.parent)
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
# SQLite's I/O errors that mean "no room": growing the WAL index (-shm), writing or truncating a file.
SQLITE_NO_ROOM = frozenset({apsw.mapping_extended_result_codes[name] for name in
                            ("SQLITE_IOERR_SHMSIZE", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_TRUNCATE")})


def storage_fault(exc: BaseException) -> str | None:
    """"full", "read-only" or None: what a failed write says about its disk, from the OS or from SQLite."""
    if isinstance(exc, OSError):
        return "full" if exc.errno in NO_SPACE else "read-only" if exc.errno in NOT_WRITABLE else None
    if isinstance(exc, apsw.FullError) or isinstance(exc, apsw.IOError) and exc.extendedresult in SQLITE_NO_ROOM:
        return "full"
    # SQLite says "read-only" for a database it had to open read-only, "cannot open" for a folder it cannot write.
    return "read-only" if isinstance(exc, (apsw.ReadOnlyError, apsw.PermissionsError, apsw.CantOpenError)) else None


def storage_problem(exc: BaseException) -> str | None:
    """A plain sentence for a write that failed because of the disk or folder, or None for any other error."""
    fault = storage_fault(exc)
    if fault is None:
        return None
    filename = getattr(exc, "filename", None)
    where = f" ({Path(filename).parent})" if filename else " (the data folder)" if isinstance(exc, apsw.Error) else ""
    if fault == "full":
        return (f"The disk is full{where}, so the file could not be written. Nothing half-written was left behind; "
                "free some space and try again.")
    return (f"The folder is read-only{where}, so the file could not be written. Nothing was changed; make the folder "
            "writable (or choose another downloads folder) and try again.")


def storage_status(exc: BaseException) -> int:
    """The HTTP answer to a refused write: 507 Insufficient Storage for a full disk, 403 for a read-only folder."""
    return 507 if storage_fault(exc) == "full" else 403


def folder_fault(folder: Path) -> str | None:
    """"full", "read-only" or None: whether anything can be saved in `folder` now (two cheap system calls)."""
    try:
        st = os.statvfs(folder)
    except OSError as exc:
        return storage_fault(exc) or "read-only"
    if st.f_flag & os.ST_RDONLY or not os.access(folder, os.W_OK):
        return "read-only"
    return "full" if st.f_bavail == 0 else None


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

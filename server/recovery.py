"""A damaged database never stops the app: the bad file is moved aside (timestamped, never deleted), a fresh
one is started, and the user is told on every page until they dismiss the notice."""
from __future__ import annotations

import errno
import gc
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import apsw
from fasthtml.common import Button, Code, Div, Footer, P
from loguru import logger

from .db import open_db, store_get, store_set
from .db_threads import per_thread
from .engine.cards import message_card
from .files import private_folder

NOTICE_KEY = "recovery:notice"
# SQLite's companions of the database file; a stale WAL must travel with its database, never meet a fresh one.
COMPANIONS = ("-wal", "-shm", "-journal")
SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseUnusable(RuntimeError):
    """The database is damaged and could not even be moved aside; the message says what to do."""


def _damaged(exc: BaseException, path: Path) -> bool:
    # Only damage moves a file aside: a busy lock (another Pipedeck) or a full disk is not the file's fault.
    if isinstance(exc, (apsw.NotADBError, apsw.CorruptError)):
        return True
    return isinstance(exc, apsw.CantOpenError) and path.exists()


def _precheck(path: Path) -> str | None:
    """Damage visible without SQLite. Checked first because SQLite, failing to open a non-database, deletes its WAL."""
    if not path.exists() and not path.is_symlink():
        return None
    if not path.is_file():
        return "unable to open database file: not a regular file"
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"unable to open database file: {exc.strerror or exc}"
    if head and head != SQLITE_HEADER[:len(head)] or 0 < len(head) < len(SQLITE_HEADER):
        return "file is not a database"
    return None


def _check(db) -> None:
    """Read every page once (quick_check), so damage inside the file is found now rather than mid-workflow."""
    rows = list(db.execute("PRAGMA quick_check(1)"))
    verdict = rows[0][0] if rows else "no answer"
    if verdict != "ok":
        raise apsw.CorruptError(f"integrity check: {verdict}")


def open_checked(path: Path):
    """open_db, after creating the file owner-only (no window where it is world-readable), then checked."""
    private_folder(path.parent)
    if not path.exists() and not path.is_symlink():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    db = open_db(path)
    try:
        _check(db)
    except BaseException:
        db.conn.close()
        raise
    first = db.conn
    db = per_thread(db, _tune)
    # Open for the whole run, whichever thread made it: SQLite deletes the -wal and -shm files when its last
    # connection closes, and on a disk that has filled up since, re-creating them fails every read as well.
    db.keep_open = first
    return db


def _tune(conn) -> None:
    """What open_db sets on its connection, for each further thread's own (WAL mode is stored in the file)."""
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA synchronous=NORMAL")


def move_aside(path: Path) -> Path:
    """Rename the database (and its WAL/SHM) to `<name>.corrupt-<UTC timestamp>`; returns the new path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists() or any(Path(f"{aside}{c}").exists() for c in COMPANIONS):
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, aside)
    for suffix in COMPANIONS:
        companion = Path(f"{path}{suffix}")
        if companion.exists() or companion.is_symlink():
            os.replace(companion, Path(f"{aside}{suffix}"))
    return aside


def _check_usable(path: Path) -> None:
    """Refuse, with the OS's own error, a data folder this process cannot write: that is not damage, and moving a
    good database aside because of it would only fail (or hide the user's data)."""
    folder = path.parent
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        readonly = os.statvfs(folder).f_flag & os.ST_RDONLY
        raise OSError(errno.EROFS if readonly else errno.EACCES,
                      "read-only file system" if readonly else "permission denied", str(folder))


def open_or_recover(path: Path):
    """The app's database; a damaged one is moved aside and replaced by a fresh one that carries a notice."""
    path = Path(path)
    _check_usable(path)
    reason = _precheck(path)
    if reason is None:
        try:
            return open_checked(path)
        except apsw.Error as exc:
            if not _damaged(exc, path):
                raise
            reason = str(exc) or type(exc).__name__
    gc.collect()  # drop any half-open connection to the bad file before renaming it
    try:
        aside = move_aside(path)
    except OSError as exc:
        raise DatabaseUnusable(f"The database {path} is damaged ({reason}) and could not be moved aside ({exc}). "
                               "Move it away by hand; Pipedeck will start fresh.") from exc
    logger.error("database {} was damaged ({}); moved aside to {} and started fresh", path, reason, aside)
    db = open_checked(path)
    store_set(db, NOTICE_KEY, json.dumps({"reason": reason, "aside": str(aside),
                                          "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
    return db


def notice(ctx):
    """The side-panel card telling the user their old database was kept aside, or None when there is nothing to say."""
    raw = store_get(ctx.db, NOTICE_KEY)
    if not raw:
        return None
    info = json.loads(raw)
    return Div(message_card(
        "Pipedeck started with a fresh database",
        P(f"The database could not be read ({info['reason']}), so it was moved aside, not deleted, and an empty one "
          "was started. Earlier runs, profiles and tasks are in the old file:"),
        P(Code(info["aside"])),
        Footer(Button("Dismiss", cls="secondary", hx_post="/recovery/dismiss", hx_target="#recovery-notice",
                      hx_swap="outerHTML")),
        cls="card-error"), id="recovery-notice", role="alert")


def register(ctx, rt) -> None:
    ctx.side_panels.insert(0, lambda: notice(ctx))

    @rt("/recovery/dismiss", methods=["post"])
    def dismiss():
        ctx.db.execute("DELETE FROM store WHERE key = ?", [NOTICE_KEY])
        return ""

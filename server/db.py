"""The one SQLite file of state: tables, WAL mode and owner-only permissions."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import apsw
from fastlite import database
from loguru import logger

from .files import private_folder


def _storage_tolerant(hook):
    """A new-connection hook that survives a full or read-only disk: apswutils' hooks end with `PRAGMA optimize`,
    which may write; on a full disk it failed every new thread's connection, so even reading a page gave a 500."""
    def run(conn) -> None:
        try:
            hook(conn)
        except (apsw.FullError, apsw.ReadOnlyError, apsw.IOError) as exc:
            logger.warning("new database connection without its housekeeping: {}", exc)
    run.storage_tolerant = True
    return run


# fastlite (through apswutils) registered its hooks when imported above; each new connection runs them.
apsw.connection_hooks[:] = [h if getattr(h, "storage_tolerant", False) else _storage_tolerant(h)
                            for h in apsw.connection_hooks]


@dataclass
class Pipeline:
    id: str
    workflow: str
    data: str
    created: str
    updated: str


@dataclass
class Store:
    key: str
    value: str


@dataclass
class Profile:
    id: int
    name: str
    menu_name: str
    address: str
    code: str
    active: int
    priority: int


@dataclass
class Task:
    id: int
    profile_id: int
    text: str
    done: int
    priority: int


def open_db(path: Path):
    private_folder(path.parent)
    fresh = not path.exists()
    db = database(path)
    if fresh:
        os.chmod(path, 0o600)
    # WAL lets the UI read while a worker writes; the timeout waits out brief locks instead of failing.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    # In WAL mode NORMAL survives a killed process intact; only a power cut can drop the last commits.
    db.execute("PRAGMA synchronous=NORMAL")
    db.create(Pipeline, pk=("workflow", "id"))
    db.create(Store, pk="key")
    db.create(Profile, pk="id")
    db.create(Task, pk="id")
    return db


def store_get(db, key: str, default: str | None = None) -> str | None:
    rows = list(db.query("SELECT value FROM store WHERE key = ?", [key]))
    return rows[0]["value"] if rows else default


def store_set(db, key: str, value: str) -> None:
    db.execute("INSERT INTO store (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value])

"""One SQLite connection per thread behind the app's single database object.

apsw refuses to let two threads use one Connection at the same moment (ThreadingViolationError), and route
handlers written as plain `def` run in Starlette's thread pool while `async def` ones run on the event loop: under
concurrent requests they collided and answered 500. Each thread now gets its own connection to the same file;
SQLite's WAL mode and busy timeout make them cooperate (readers never block, writers wait their turn)."""
from __future__ import annotations

import threading
import time
import weakref
from typing import Callable

import apsw


def _connect(path: str, attempts: int = 100) -> apsw.Connection:
    # apswutils' connection hooks run `PRAGMA optimize` (it may write) under a 100 ms busy timeout: while other
    # threads write, a new connection can find the database busy. It is only ever busy for moments, so retry.
    for _ in range(attempts - 1):
        try:
            return apsw.Connection(path)
        except apsw.BusyError:
            time.sleep(0.05)
    return apsw.Connection(path)


def per_thread(db, setup: Callable[[apsw.Connection], None]):
    """Make `db.conn` (and so every query through `db`) use a connection of the calling thread's own.

    `setup` runs on each new connection (busy timeout, synchronous mode); the first connection stays with the
    thread that opened the database."""
    path = db.conn.filename
    local = threading.local()
    local.conn = db.__dict__.pop("conn")
    # Weak: a pool thread that exits (anyio retires idle ones) takes its connection with it, closed on collection.
    opened: weakref.WeakSet[apsw.Connection] = weakref.WeakSet([local.conn])
    lock = threading.Lock()

    def current() -> apsw.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = _connect(path)
            setup(conn)
            with lock:
                opened.add(conn)
            local.conn = conn
        return conn

    def replace(_self, conn) -> None:
        local.conn = conn

    def close_all(_self) -> None:
        # At shutdown the pool threads are idle, so closing their connections from here is safe.
        with lock:
            conns = list(opened)
            opened.clear()
        for conn in conns:
            conn.close()

    base = type(db)
    db.__class__ = type(f"PerThread{base.__name__}", (base,), {
        "conn": property(lambda _self: current(), replace),
        "close": close_all,
        "connections": property(lambda _self: len(opened)),
    })
    return db

"""Run state: one `pipeline` row per run, progress derived from which step keys are in its blob."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..current_profile import current_profile

FINALIZE = "finalize"
REFILL = "refill"  # answers cleared by a revert, offered again as pre-filled values
ANY = object()  # in `present`: the step must hold some value, whichever


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Run:
    workflow: str
    id: str
    data: dict = field(default_factory=dict)

    def __getitem__(self, step_id: str):
        return self.data[step_id]

    def done(self, step_id: str) -> bool:
        return step_id in self.data

    def get(self, step_id: str, default=None):
        return self.data.get(step_id, default)

    def refill(self, step_id: str, default=None):
        """The answer a revert took away from this step, to offer again."""
        return (self.data.get(REFILL) or {}).get(step_id, default)

    @property
    def finalized(self) -> bool:
        return FINALIZE in self.data

    def first_unfinished(self, step_ids: list[str]) -> str | None:
        return next((s for s in step_ids if s not in self.data), None)

    def progress(self, step_ids: list[str]) -> str:
        return f"{sum(s in self.data for s in step_ids)} of {len(step_ids)}"


def _path(key: str) -> str:
    return "$." + ".".join(f'"{part}"' for part in key.split("."))


class RunStore:
    """Every read and write of run state. Every write is `change`: one SQL statement with its own conditions."""

    def __init__(self, db):
        self.db = db

    def get(self, workflow: str, run_id: str) -> Run | None:
        # The connection directly: fastlite's query wrapper cost more than the read itself on every card.
        sql = "SELECT data FROM pipeline WHERE workflow=? AND id=?"
        rows = self.db.conn.execute(sql, [workflow, run_id]).fetchall()
        return Run(workflow, run_id, json.loads(rows[0][0])) if rows else None

    def open(self, workflow: str, run_id: str) -> Run:
        """The run with this id, created empty (owned by the current profile) if it is new."""
        ts = now()
        current = current_profile(self.db)  # the client chosen in the sidebar: its work is listed together
        blob = json.dumps({"created": ts, "updated": ts, "profile": current.id if current else None})
        self.db.execute(
            "INSERT OR IGNORE INTO pipeline (id, workflow, data, created, updated) VALUES (?, ?, ?, ?, ?)",
            [run_id, workflow, blob, ts, ts])
        return self.get(workflow, run_id)

    def change(self, workflow: str, run_id: str, *, put: dict | None = None, remove=(), present: dict | None = None,
               absent=()) -> Run | None:
        """The one write: set `put` keys and drop `remove` keys (dotted paths) in a single UPDATE, only if every
        `present` key holds its value (or any value, for ANY) and every `absent` key is missing. The run as written
        (the statement returns it: no second read), or None if the conditions refused it.

        The conditions sit in the same statement as the write, so an answer racing a revert in another tab, or a
        background result computed from answers since reverted, is refused instead of stored after a gap."""
        sets, params = "json_remove(data" + ", ?" * len(remove) + ")", [_path(k) for k in remove]
        for key, value in (put or {}).items():
            sets = f"json_set({sets}, ?, json(?))"
            params += [_path(key), json.dumps(value)]
        return self._update(workflow, run_id, sets, params, present or {}, absent)

    def _update(self, workflow, run_id, sets, params, present, absent) -> Run | None:
        ts = now()
        where, wparams = [], []
        for key, value in present.items():
            if value is ANY:
                where.append("json_type(data, ?) IS NOT NULL")
                wparams.append(_path(key))
            else:  # the stored value as SQLite reads it, against the expected one read the same way
                where.append("json_type(data, ?) IS NOT NULL AND json_extract(data, ?) IS json_extract(?, '$')")
                wparams += [_path(key), _path(key), json.dumps(value)]
        for key in absent:
            where.append("json_type(data, ?) IS NULL")
            wparams.append(_path(key))
        guard = "".join(f" AND {w}" for w in where)
        rows = self.db.conn.execute(f"UPDATE pipeline SET data = json_set({sets}, '$.updated', ?), updated = ? "
                                    f"WHERE workflow = ? AND id = ?{guard} RETURNING data",
                                    [*params, ts, ts, workflow, run_id, *wparams]).fetchall()
        return Run(workflow, run_id, json.loads(rows[0][0])) if rows else None

    def set_step(self, workflow: str, run_id: str, step_id: str, value, overwrite: bool = False,
                 requires=()) -> bool:
        """Store one step's value; without `overwrite` the first answer wins (a repeated submit is harmless)."""
        return self.change(workflow, run_id, put={step_id: value}, present=dict.fromkeys(requires, ANY),
                           absent=() if overwrite else (step_id,)) is not None

    def clear(self, workflow: str, run_id: str, step_ids: list[str]) -> None:
        """Remove these steps' data."""
        if step_ids:
            self.change(workflow, run_id, remove=step_ids)

    def delete(self, workflow: str, run_id: str) -> None:
        self.db.execute("DELETE FROM pipeline WHERE workflow = ? AND id = ?", [workflow, run_id])

    def list(self, workflow: str, profile: int | None = None, limit: int = 50) -> list[Run]:
        """The workflow's runs, the last changed first; with `profile`, that client's and those made before any."""
        mine = "" if profile is None else " AND coalesce(json_extract(data, '$.profile'), ?) = ?"
        rows = self.db.query(f"SELECT id, data FROM pipeline WHERE workflow=?{mine} ORDER BY updated DESC, rowid DESC "
                             "LIMIT ?", [workflow, *(() if profile is None else (profile, profile)), limit])
        return [Run(workflow, r["id"], json.loads(r["data"])) for r in rows]

"""Run state: one `pipeline` row per run, progress derived from which step keys are in its blob."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

FINALIZE = "finalize"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Run:
    workflow: str
    id: str
    data: dict = field(default_factory=dict)

    def done(self, step_id: str) -> bool:
        return step_id in self.data

    def get(self, step_id: str) -> dict:
        return self.data.get(step_id) or {}

    @property
    def finalized(self) -> bool:
        return FINALIZE in self.data

    def first_unfinished(self, step_ids: list[str]) -> str | None:
        return next((s for s in step_ids if s not in self.data), None)


class RunStore:
    """Every read and write of run state. Writes are single SQL statements, so two tabs never lose a step."""

    def __init__(self, db):
        self.db = db

    def get(self, workflow: str, run_id: str) -> Run | None:
        rows = list(self.db.query("SELECT data FROM pipeline WHERE workflow=? AND id=?", [workflow, run_id]))
        return Run(workflow, run_id, json.loads(rows[0]["data"])) if rows else None

    def open(self, workflow: str, run_id: str) -> Run:
        """The run with this id, created empty if it is new."""
        ts = now()
        blob = json.dumps({"created": ts, "updated": ts})
        self.db.execute(
            "INSERT OR IGNORE INTO pipeline (id, workflow, data, created, updated) VALUES (?, ?, ?, ?, ?)",
            [run_id, workflow, blob, ts, ts])
        return self.get(workflow, run_id)

    def set_step(self, workflow: str, run_id: str, step_id: str, value: dict, overwrite: bool = False,
                 requires: tuple[str, ...] | list[str] = ()) -> bool:
        """Store a step's data; without `overwrite` the first answer wins (a repeated submit is harmless).

        `requires`: steps that must still be there, checked in the same statement, so an answer racing a revert of
        an earlier step in another tab is refused rather than stored after a gap."""
        ts = now()
        guard = "" if overwrite else " AND json_extract(data, ?) IS NULL"
        guard += "".join(" AND json_extract(data, ?) IS NOT NULL" for _ in requires)
        params = [f"$.{step_id}", json.dumps(value), ts, ts, workflow, run_id] + ([] if overwrite else [f"$.{step_id}"])
        params += [f"$.{s}" for s in requires]
        self.db.execute(
            "UPDATE pipeline SET data = json_set(data, ?, json(?), '$.updated', ?), updated = ? "
            f"WHERE workflow = ? AND id = ?{guard}", params)
        return self.db.conn.changes() > 0

    def clear(self, workflow: str, run_id: str, step_ids: list[str]) -> None:
        """Remove these steps' data (revert clears a step and every later one, finalize included)."""
        if not step_ids:
            return
        ts = now()
        paths = [f"$.{s}" for s in step_ids]
        marks = ", ".join("?" for _ in paths)
        self.db.execute(
            f"UPDATE pipeline SET data = json_set(json_remove(data, {marks}), '$.updated', ?), updated = ? "
            "WHERE workflow = ? AND id = ?", [*paths, ts, ts, workflow, run_id])

    def list(self, workflow: str, limit: int = 20) -> list[Run]:
        rows = self.db.query("SELECT id, data FROM pipeline WHERE workflow=? ORDER BY updated DESC LIMIT ?", [workflow, limit])
        return [Run(workflow, r["id"], json.loads(r["data"])) for r in rows]

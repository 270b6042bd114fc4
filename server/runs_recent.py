"""The runs touched most recently, across every workflow (the `pipeline` table), for the quick switcher."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class RecentRun:
    workflow: str
    id: str
    updated: str

    @property
    def href(self) -> str:
        return f"/{self.workflow}?" + urlencode({"pipeline_id": self.id})


def recent_runs(db, titles: dict[str, str], q: str = "", limit: int = 8) -> list[RecentRun]:
    """Newest first; only runs of workflows still installed (`titles`), matching every word of `q`."""
    words = q.lower().split()
    found = []
    rows = db.query("SELECT workflow, id, updated FROM pipeline ORDER BY updated DESC LIMIT 500")
    for row in rows:
        title = titles.get(row["workflow"])
        text = f"{row['id']} {title}".lower()
        if title is not None and all(w in text for w in words):
            found.append(RecentRun(row["workflow"], row["id"], row["updated"]))
            if len(found) >= limit:
                break
    return found

"""The one current profile (client): chosen in the sidebar, it decides whose tasks are listed."""
from __future__ import annotations

from .db import Profile, store_get, store_set

# The key predates the sidebar chooser (the Tasks screen chose it first); kept so a saved choice survives.
CURRENT = "tasks:profile"


def active_profiles(db) -> list[Profile]:
    return [Profile(**r) for r in db.query("SELECT * FROM profile WHERE active = 1 ORDER BY priority, id")]


def current_profile(db) -> Profile | None:
    """The chosen profile while it is active, else the first active one (None when none is active)."""
    active = active_profiles(db)
    chosen = store_get(db, CURRENT)
    return next((p for p in active if str(p.id) == chosen), active[0] if active else None)


def choose_profile(db, pid: int) -> None:
    store_set(db, CURRENT, str(pid))

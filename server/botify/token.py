"""The user's Botify token: one owner-only file in the data folder, never logged, never in the database."""
from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_write

TOKEN_FILE = "botify_token.json"


def token_path(data_dir: Path) -> Path:
    return Path(data_dir) / TOKEN_FILE


def load_token(data_dir: Path) -> dict | None:
    """`{"token", "username"}` of the verified token, or None when the user has not connected."""
    try:
        saved = json.loads(token_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, dict) and saved.get("token") else None


def save_token(data_dir: Path, token: str, username: str) -> None:
    atomic_write(token_path(data_dir), json.dumps({"token": token, "username": username}), mode=0o600)


def forget_token(data_dir: Path) -> None:
    token_path(data_dir).unlink(missing_ok=True)

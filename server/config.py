"""Where things live and which services to talk to, from flags and environment."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC_DIR = ROOT / "static"


def _xdg_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _checkout_is_writable() -> bool:
    # Run from the read-only Nix store, state must go to the user's XDG folders.
    return not str(ROOT).startswith("/nix/store") and os.access(ROOT, os.W_OK)


def default_data_dir() -> Path:
    if env := os.environ.get("PIPEDECK_DATA_DIR"):
        return Path(env)
    return ROOT / "data" if _checkout_is_writable() else _xdg_data_home() / "pipedeck" / "data"


def default_downloads_dir() -> Path:
    if env := os.environ.get("PIPEDECK_DOWNLOADS_DIR"):
        return Path(env)
    return ROOT / "downloads" if _checkout_is_writable() else _xdg_data_home() / "pipedeck" / "downloads"


def url_host(host: str) -> str:
    """A host as it stands in a URL or a Host header: an IPv6 address needs brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass
class Config:
    data_dir: Path = field(default_factory=default_data_dir)
    downloads_dir: Path = field(default_factory=default_downloads_dir)
    host: str = "127.0.0.1"
    port: int = 5001
    botify_api_url: str = field(default_factory=lambda: os.environ.get("BOTIFY_API_URL", "https://api.botify.com/v1"))
    ollama_host: str = field(default_factory=lambda: os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434"))
    # A fresh secret each launch: the window's bootstrap URL carries it, strangers cannot guess it.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # On by default: only a browser that opened the bootstrap URL may drive the app (`--no-auth` is for tests only).
    auth: bool = True
    lan: bool = False
    # Extra names or addresses LAN clients use for this machine (--lan-name), besides its hostname and interfaces.
    lan_names: tuple = ()
    poll_interval: float = field(default_factory=lambda: float(os.environ.get("PIPEDECK_POLL_INTERVAL", "3")))

    def __post_init__(self):
        self.data_dir = Path(self.data_dir).resolve()
        self.downloads_dir = Path(self.downloads_dir).resolve()
        # ollama_host stays as given: server/llm/host.py reads it as Ollama's own client does (no scheme: port 11434).

    @property
    def db_path(self) -> Path:
        return self.data_dir / "pipedeck.db"

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{url_host(host)}:{self.port}"

    @property
    def bootstrap_url(self) -> str:
        return f"{self.base_url}/auth?secret={self.secret}" if self.auth else f"{self.base_url}/"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.downloads_dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o700)

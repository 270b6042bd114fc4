"""The app in this process (real SQLite file, real middleware) with extra workflows, for the engine's tests."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from starlette.testclient import TestClient

import server.workflows as workflows
from server.app import create_app
from server.config import Config
from server.security import TOKEN_HEADER, cookie_name, csrf_token

EXAMPLES = Path(__file__).parent / "example_workflows"
HX = {"HX-Request": "true"}
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: no Botify or Ollama is reached


def make_app(base: Path, monkeypatch, *folders: Path):
    """The app with the workflows of `folders` discovered beside the shipped ones."""
    monkeypatch.setattr(workflows, "__path__", [*workflows.__path__, *map(str, folders)])
    cfg = Config(data_dir=base / "data", downloads_dir=base / "downloads", botify_api_url=CLOSED_PORT,
                 ollama_host=CLOSED_PORT)
    return cfg, create_app(cfg)


@contextmanager
def client(cfg, app):
    # As the window does: the launch cookie, the Origin, and the page's CSRF token on every request.
    with TestClient(app, base_url=cfg.base_url, headers={"Origin": cfg.base_url, TOKEN_HEADER: csrf_token(cfg)}) as c:
        c.cookies.set(cookie_name(cfg), cfg.secret)
        yield c


def walk(c, workflow: str, run_id: str, *answers: tuple[str, object]):
    c.post(f"/{workflow}/init", data={"pipeline_id": run_id}, headers=HX)
    r = None
    for step_id, value in answers:
        r = c.post(f"/{workflow}/{step_id}/submit", data={"pipeline_id": run_id, step_id: value}, headers=HX)
    return r

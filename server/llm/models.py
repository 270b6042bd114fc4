"""What Ollama says about its models: full names (`:latest`) and each model's capabilities, asked once per model."""
from __future__ import annotations

from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    import httpx  # annotations only: httpx is imported by the client that makes the calls


def full_name(name: str) -> str:
    """A model name with its tag, as Ollama stores it: an untagged name means `:latest` (docs/api.md "Model names")."""
    name = (name or "").strip()
    return name if not name or ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _key(host: str, model: str) -> tuple[str, str]:
    return host.rstrip("/"), full_name(model)


class Capabilities:
    """`POST /api/show` capabilities per address and model, cached: they change only when a model is pulled again."""

    def __init__(self):
        self.known: dict[tuple[str, str], frozenset | None] = {}

    async def get(self, http: httpx.AsyncClient, model: str) -> frozenset | None:
        """The model's capabilities; None when this Ollama does not list them (older than 0.6.4) or cannot say."""
        key = _key(str(http.base_url), model)
        if key not in self.known:
            r = await http.post("/api/show", json={"model": model})
            if r.status_code != 200:
                logger.info("ollama /api/show {} answered {}: {}", model, r.status_code, r.text[:200])
                return None  # not cached: a model being pulled is shown properly next time
            caps = r.json().get("capabilities")
            self.known[key] = frozenset(caps) if isinstance(caps, list) else None
        return self.known[key]

    def without(self, host: str, model: str, capability: str) -> None:
        """Ollama refused a request for lacking `capability`: remember it, whatever /api/show said."""
        key = _key(host, model)
        caps = self.known.get(key)
        self.known[key] = frozenset((caps or {"completion"}) - {capability})

    def forget(self) -> None:
        self.known.clear()  # a pull may have replaced a model with a newer version

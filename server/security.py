"""Who may drive this server: Host check (DNS rebinding), Origin check (CSRF, cross-site WebSocket) and the
per-launch secret cookie, as one ASGI middleware in front of the whole app, WebSockets included."""
from __future__ import annotations

import hmac
import socket
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from loguru import logger
from starlette.responses import PlainTextResponse, RedirectResponse

from .config import Config, url_host

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Reachable without the secret: the launcher's health probe and the page's own assets (no state, nothing private).
EXEMPT_PATHS = ("/healthz",)
EXEMPT_PREFIXES = ("/static/",)
AUTH_PATH = "/auth"


class BindRefused(ValueError):
    """A listening address that would expose the server without the user asking for it."""


def check_bind(cfg: Config) -> None:
    """Refuse to listen beyond loopback without --lan, or on the LAN without the secret."""
    if cfg.host not in LOOPBACK_HOSTS and not cfg.lan:
        raise BindRefused(f"Refusing to listen on {cfg.host}: that makes Pipedeck reachable from other machines. "
                          "Add --lan to mean it (the launch secret is then required from every client).")
    if cfg.lan and not cfg.auth:
        raise BindRefused("--lan and --no-auth cannot go together: "
                          "on the LAN every client must carry the launch secret.")


def cookie_name(cfg: Config) -> str:
    # Browsers share cookies across ports of one host: the port in the name keeps two instances apart.
    return f"pipedeck_secret_{cfg.port}"


def lan_names(cfg: Config) -> set[str]:
    """Names and addresses LAN clients may use for this machine: hostname, hostname.local, every interface address."""
    names = {n.lower() for n in cfg.lan_names}
    if cfg.host not in WILDCARD_HOSTS:
        names.add(cfg.host.lower())
    hostname = socket.gethostname().lower()
    names |= {hostname, f"{hostname}.local"}
    try:
        import psutil

        for addrs in psutil.net_if_addrs().values():
            for a in addrs:
                if a.family in (socket.AF_INET, socket.AF_INET6):
                    names.add(a.address.split("%")[0].lower())
    except Exception:  # an exotic interface table must not stop the app; named hosts still work
        logger.exception("could not list network interfaces for the LAN host allow-list")
    return names


def allowed_hosts(cfg: Config) -> frozenset[str]:
    """Exact `Host` header values this server answers to (name:port)."""
    names = set(LOOPBACK_NAMES)
    if cfg.host not in WILDCARD_HOSTS:
        names.add(url_host(cfg.host.lower()))
    if cfg.lan:
        names |= {url_host(n) for n in lan_names(cfg)}
    hosts = {f"{n}:{cfg.port}" for n in names}
    if cfg.port == 80:  # browsers leave the default port out of Host
        hosts |= names
    return frozenset(hosts)


def refuse(message: str, status: int = 403) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status)


class SecurityMiddleware:
    """Refuses, with 403 and a plain message, anything a stranger on this machine (or a web page) could send."""

    def __init__(self, app, cfg: Config):
        self.app, self.cfg = app, cfg
        self.hosts = allowed_hosts(cfg)
        self.origins = frozenset(f"http://{h}" for h in self.hosts)
        self.cookie = cookie_name(cfg)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        problem = self.problem(scope)
        if problem is None and scope["type"] == "http" and scope["path"] == AUTH_PATH:
            return await self.bootstrap(scope)(scope, receive, send)
        if problem is None:
            return await self.app(scope, receive, send)
        logger.warning("refused {} {}: {}", scope.get("method", "WEBSOCKET"), scope["path"], problem)
        if scope["type"] == "websocket":
            # Closing before accept makes the server answer the upgrade with 403: no socket is ever opened.
            await send({"type": "websocket.close", "code": 1008})
            return
        await refuse(problem)(scope, receive, send)

    def problem(self, scope) -> str | None:
        """Why this request is refused, or None."""
        headers = _headers(scope)
        if headers.get("host", "").lower() not in self.hosts:
            return "Refused: this server only answers to its own address (Host header not allowed)."
        path = scope["path"]
        exempt = path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)
        has_secret = self.has_secret(headers)
        changes_state = scope["type"] == "websocket" or scope.get("method", "GET") in STATE_CHANGING
        if changes_state and not exempt:
            origin = headers.get("origin")
            if origin is None:
                if not (self.cfg.auth and has_secret):
                    return "Refused: a request that changes something must come from Pipedeck's own page (no Origin)."
            elif origin.lower() not in self.origins:
                return "Refused: this request comes from another site (Origin not allowed)."
        if self.cfg.auth and not exempt and path != AUTH_PATH and not has_secret:
            return ("Refused: open Pipedeck with the address it printed at launch (…/auth?secret=…); "
                    "this browser does not carry that launch's secret.")
        return None

    def has_secret(self, headers: dict) -> bool:
        raw = headers.get("cookie")
        if not raw:
            return False
        try:
            jar = SimpleCookie()
            jar.load(raw)
        except Exception:  # a malformed Cookie header is simply no secret
            return False
        morsel = jar.get(self.cookie)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), self.cfg.secret.encode())

    def bootstrap(self, scope):
        """`/auth?secret=…`: trade the launch secret for an HttpOnly, SameSite=Strict cookie, then go home."""
        given = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("secret") or [""])[0]
        if not self.cfg.auth:
            return RedirectResponse("/", status_code=303)
        if not hmac.compare_digest(given.encode(), self.cfg.secret.encode()):
            return refuse("Refused: that is not this launch's secret. "
                          "Use the address Pipedeck printed when it started.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(self.cookie, self.cfg.secret, httponly=True, samesite="strict", path="/")
        # The secret sits in this URL: keep it out of history-derived Referer headers and caches.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        key = k.decode("latin-1").lower()
        val = v.decode("latin-1")
        # Two Host or Origin headers is a trick, not a browser: keep the stranger value so the check fails closed.
        out[key] = out[key] + "\x00" + val if key in out and key in ("host", "origin") else (
            out[key] + "; " + val if key == "cookie" and key in out else val)
    return out

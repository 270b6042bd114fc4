"""Who may drive this server: Host check (DNS rebinding), Origin and token checks (CSRF, cross-site WebSocket), the
per-launch secret cookie, response headers (CSP, no framing) and body limits, as one ASGI middleware in front of the
whole app, WebSockets included."""
from __future__ import annotations

import hashlib
import hmac
import re
import socket
from functools import lru_cache
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from loguru import logger
from starlette.exceptions import HTTPException
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
# The page's per-launch CSRF token: htmx sends it as this header, the chat WebSocket in its URL (browsers cannot set
# headers on an upgrade).
TOKEN_HEADER = "x-pipedeck-token"
TOKEN_PARAM = "token"
# Bodies are counted as they arrive (chunked or not); a route that takes more says so here.
BODY_LIMIT = 8 << 20
BODY_LIMITS = ((re.compile(r"^/graph/[^/]+/[^/]+/[^/]+/png$"), 64 << 20),)
# The graph viewer's WebGL library (regl, inside cosmos) compiles its draw calls with Function(); no page shows
# anything from outside as script there (htmx's own eval is off: allowEval false in the page's htmx-config).
EVAL_PAGES = re.compile(r"^/graph/[^/]+/[^/]+/[^/]+$")
# The native window's bridge (pywebview's api.js, run in the page by Qt) builds window.pywebview.api with
# new Function(), so the window's engine gets eval too; an ordinary browser never does.
NATIVE_WINDOW = "QtWebEngine/"
STATIC_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class WaitingConnections:
    """Connections that have not yet shown this launch's secret, oldest first: the server's protocol adds each new
    one, the middleware lets go of each that passes its checks. Over the cap, the oldest stranger is closed, so
    half-open connections from a process without the secret cannot use up the open files the user's window needs.
    A request to /healthz or /static (open to anyone) does not count as showing the secret.
    Touched only from the event loop's thread (protocol callbacks and the middleware both run there)."""

    def __init__(self, cap: int = 256):
        self.cap = cap
        self.waiting: dict[tuple, object] = {}

    def opened(self, key: tuple, transport) -> None:
        self.waiting[key] = transport
        while len(self.waiting) > self.cap:
            oldest = next(iter(self.waiting))
            self.expire(oldest, self.waiting[oldest])

    def trusted(self, key: tuple) -> None:
        self.waiting.pop(key, None)

    def expire(self, key: tuple, transport) -> None:
        """Close this connection if it is still waiting (no request passed within the header timeout, or over the cap)."""
        if self.waiting.get(key) is not transport:
            return  # it showed the secret, or it closed and its address now belongs to another connection
        del self.waiting[key]
        if not transport.is_closing():
            transport.abort()

    def closed(self, key: tuple) -> None:
        self.waiting.pop(key, None)


# One per process: a uvicorn protocol class cannot be handed an object, and keys include the server's own address.
CONNECTIONS = WaitingConnections()


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


def csrf_token(cfg: Config) -> str:
    """This launch's CSRF token: put in the page for its scripts, derived one-way so it never reveals the secret."""
    return hmac.new(cfg.secret.encode(), b"pipedeck csrf token", hashlib.sha256).hexdigest()


def content_security_policy(host: str, path: str, agent: str = "") -> bytes:
    """Only this server: no inline script or style, no outside image, no framing, nothing sent elsewhere."""
    return _policy(host, bool(EVAL_PAGES.match(path) or NATIVE_WINDOW in agent))


@lru_cache(maxsize=64)  # a handful of (Host, eval) pairs per launch: built once, not on every response
def _policy(host: str, evals: bool) -> bytes:
    script = "'self' 'unsafe-eval'" if evals else "'self'"
    return (f"default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data: blob:; "
            f"connect-src 'self' ws://{host}; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'").encode("latin-1")


def body_limit(path: str) -> int:
    return next((limit for pattern, limit in BODY_LIMITS if pattern.match(path)), BODY_LIMIT)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"The request is larger than this address accepts ({limit >> 20} MB); nothing was saved.")


def counting_receive(receive, limit: int):
    """`receive` that stops a body at `limit` bytes as they arrive, whatever Content-Length said (or did not)."""
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message
    return wrapped


def with_headers(send, host: str, path: str, agent: str):
    """`send` that adds the security headers to every response (a route's own value wins)."""
    csp = content_security_policy(host, path, agent)

    async def wrapped(message):
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", ())}
            extra = [(k, v) for k, v in (*STATIC_HEADERS, (b"content-security-policy", csp)) if k not in present]
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)
    return wrapped


class SecurityMiddleware:
    """Refuses, with 403 and a plain message, anything a stranger on this machine (or a web page) could send."""

    def __init__(self, app, cfg: Config):
        self.app, self.cfg = app, cfg
        self.hosts = allowed_hosts(cfg)
        self.origins = frozenset(f"http://{h}" for h in self.hosts)
        self.cookie = cookie_name(cfg)
        self.token = csrf_token(cfg).encode()
        self.last_cookie: tuple[bytes, bool] = (b"", False)  # the last Cookie header seen, and whether it has the secret

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        secret = self.has_secret(headers)  # the Cookie header parsed once, for both checks below
        if scope["type"] == "http":
            host = headers.get("host", "").lower()
            send = with_headers(send, host if host in self.hosts else self.cfg.base_url.split("://", 1)[1],
                                scope["path"], headers.get("user-agent", ""))
        problem = self.problem(scope, headers, secret)
        if problem is None and scope["type"] == "http":
            if scope["path"] == AUTH_PATH:
                return await self.bootstrap(scope)(scope, receive, send)
            limit = body_limit(scope["path"])
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                return await refuse(BodyTooLarge(limit).detail, 413)(scope, receive, send)
            receive = counting_receive(receive, limit)
        if problem is None:
            if not self.cfg.auth or secret:  # /healthz and /static are open, but not trusted
                CONNECTIONS.trusted((tuple(scope.get("server") or ()), tuple(scope.get("client") or ())))
            return await self.app(scope, receive, send)
        logger.warning("refused {} {}: {}", scope.get("method", "WEBSOCKET"), scope["path"], problem)
        if scope["type"] == "websocket":
            # Closing before accept makes the server answer the upgrade with 403: no socket is ever opened.
            await send({"type": "websocket.close", "code": 1008})
            return
        await refuse(problem)(scope, receive, send)

    def problem(self, scope, headers: dict | None = None, has_secret: bool | None = None) -> str | None:
        """Why this request is refused, or None (`headers` and `has_secret` as __call__ already worked them out)."""
        headers = _headers(scope) if headers is None else headers
        if headers.get("host", "").lower() not in self.hosts:
            return "Refused: this server only answers to its own address (Host header not allowed)."
        path = scope["path"]
        exempt = path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)
        has_secret = self.has_secret(headers) if has_secret is None else has_secret
        changes_state = scope["type"] == "websocket" or scope.get("method", "GET") in STATE_CHANGING
        if changes_state and not exempt:
            origin = headers.get("origin")
            if origin is None:
                if not (self.cfg.auth and has_secret):
                    return "Refused: a request that changes something must come from Pipedeck's own page (no Origin)."
            elif origin.lower() not in self.origins:
                return "Refused: this request comes from another site (Origin not allowed)."
            if not self.has_token(scope, headers):
                return "Refused: a request that changes something must carry the page's token (reload the page)."
        if self.cfg.auth and not exempt and path != AUTH_PATH and not has_secret:
            return ("Refused: open Pipedeck with the address it printed at launch (…/auth?secret=…); "
                    "this browser does not carry that launch's secret.")
        return None

    def has_secret(self, headers: dict) -> bool:
        raw = headers.get("cookie")
        if not raw:
            return False
        # A window sends the same Cookie header on every request: its answer is kept (parsing it was 6% of a card).
        # Compared in constant time: the kept header holds the secret.
        last = self.last_cookie
        if hmac.compare_digest(last[0], raw.encode("latin-1")):
            return last[1]
        found = self.secret_in(raw)
        self.last_cookie = (raw.encode("latin-1"), found)  # one tuple, swapped whole: safe across threads
        return found

    def secret_in(self, raw: str) -> bool:
        try:
            jar = SimpleCookie()
            jar.load(raw)
        except Exception:  # a malformed Cookie header is simply no secret
            return False
        morsel = jar.get(self.cookie)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), self.cfg.secret.encode())

    def has_token(self, scope, headers: dict) -> bool:
        if scope["type"] == "websocket":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get(TOKEN_PARAM) or [""])[0]
        else:
            given = headers.get(TOKEN_HEADER, "")
        return hmac.compare_digest(given.encode("latin-1", "replace"), self.token)

    def bootstrap(self, scope):
        """`/auth?secret=…[&next=/path]`: trade the launch secret for an HttpOnly, SameSite=Strict cookie, then go home
        (or to `next`, a page of this server: "Open in your browser" lands on the graph it was asked from)."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given, landing = (query.get("secret") or [""])[0], local_path((query.get("next") or ["/"])[0])
        if not self.cfg.auth:
            return RedirectResponse(landing, status_code=303)
        if not hmac.compare_digest(given.encode(), self.cfg.secret.encode()):
            return refuse("Refused: that is not this launch's secret. "
                          "Use the address Pipedeck printed when it started.")
        response = RedirectResponse(landing, status_code=303)
        response.set_cookie(self.cookie, self.cfg.secret, httponly=True, samesite="strict", path="/")
        # The secret sits in this URL: keep it out of history-derived Referer headers and caches.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response


def local_path(target: str) -> str:
    """Where `/auth?next=` may land: a path of this server only (`//host` or a scheme would be an open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(c < " " for c in target):
        return "/"
    return target


def _headers(scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        key = k.decode("latin-1").lower()
        val = v.decode("latin-1")
        # Two Host or Origin headers is a trick, not a browser: keep the stranger value so the check fails closed.
        out[key] = out[key] + "\x00" + val if key in out and key in ("host", "origin") else (
            out[key] + "; " + val if key == "cookie" and key in out else val)
    return out

"""Ollama's address as Ollama reads it (ollama-python's `_parse_host`, the Go server's envconfig.Host), and checked.

No scheme means http on port 11434; `http://` alone means port 80 and `https://` 443, as both of Ollama's own
readers do; IPv6 addresses keep their brackets; a trailing slash goes. Anything else is refused with a message."""
from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urlsplit

DEFAULT_PORT = 11434
SCHEME_PORTS = {"http": 80, "https": 443}
EXAMPLE = "http://127.0.0.1:11434"
LOOKS_LIKE_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d|$)")


class BadAddress(ValueError):
    """An Ollama address that cannot be used; the message says why, for the form."""


def parse_host(text: str | None) -> str:
    """The full URL for an Ollama address; BadAddress when it has a foreign scheme, no usable host or a bad port."""
    text = (text or "").strip().strip("\"'")
    scheme, sep, hostport = text.partition("://")
    port = DEFAULT_PORT
    if not sep:
        if LOOKS_LIKE_SCHEME.match(text):  # "javascript:alert(1)", "file:x": a scheme, not host:port
            raise BadAddress(f"Use an http:// or https:// address, e.g. {EXAMPLE}.")
        scheme, hostport = "http", text
    elif scheme.lower() not in SCHEME_PORTS:
        raise BadAddress(f"Use an http:// or https:// address, e.g. {EXAMPLE}.")
    else:
        scheme = scheme.lower()
        port = SCHEME_PORTS[scheme]
    if any(c.isspace() or c in "\\@?#" for c in hostport) or len(hostport) > 300:
        raise BadAddress(f"That does not look like an address: use e.g. {EXAMPLE}.")
    split = urlsplit(f"{scheme}://{hostport}")
    try:
        port = split.port or port
    except ValueError:  # "11434x", "99999": urlsplit refuses the port
        raise BadAddress(f"The port must be a number from 1 to 65535, e.g. {EXAMPLE}.") from None
    host = split.hostname or "127.0.0.1"
    if not _valid_host(host):
        raise BadAddress(f"“{host}” is not a host name or IP address; use e.g. {EXAMPLE}.")
    if ":" in host:
        host = f"[{host}]"
    path = split.path.strip("/")
    return f"{scheme}://{host}:{port}" + (f"/{path}" if path else "")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.rstrip(".").split(".")
        return all(0 < len(label) <= 63 and label.replace("-", "").replace("_", "").isalnum()
                   and not label.startswith("-") for label in labels)


@functools.lru_cache(maxsize=64)  # asked on every narrated answer, for the same one or two addresses
def checked_host(text: str | None, fallback: str = EXAMPLE) -> tuple[str, str]:
    """The usable address and, when `text` was refused, why (so a bad stored value never breaks a page)."""
    try:
        return parse_host(text), ""
    except BadAddress as e:
        return parse_host(fallback), str(e)

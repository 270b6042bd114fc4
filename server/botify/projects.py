"""Which Botify project a pasted URL names, and the optional candidates file of orgs and projects."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from ..engine import Invalid

APP_HOST = "app.botify.com"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CANDIDATES_FILE = "candidates.txt"
MAX_NAME = 100


def project_url(org: str, project: str) -> str:
    return f"https://{APP_HOST}/{org}/{project}/"


def clean_project_url(raw: str) -> tuple[str, str, str]:
    """`(org, project, cleaned_url)` from whatever the browser showed, or Invalid with what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise Invalid(f"Paste the address of a Botify project, e.g. https://{APP_HOST}/your-org/your-project/.")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()  # raises for a broken IPv6 bracket such as http://[::1 or https://[]/
    except ValueError:
        host, parts = "", None
    if parts is None or parts.scheme not in ("http", "https") or host != APP_HOST:
        raise Invalid(f"That is not a Botify project address: it should start with https://{APP_HOST}/ "
                      "followed by the organisation and the project.")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        raise Invalid(f"That Botify address names no project: it should look like https://{APP_HOST}/org/project/.")
    org, project = segments[0], segments[1]
    if len(org) > MAX_NAME or len(project) > MAX_NAME:
        # Each becomes a folder name in downloads: far past any real Botify slug, well within a file system's limit.
        raise Invalid(f"The organisation or project in that address is too long (over {MAX_NAME} characters).")
    if not (NAME.match(org) and NAME.match(project)):
        raise Invalid("The organisation or project in that address has characters Botify does not use.")
    return org, project, project_url(org, project)


def read_candidates(data_dir: Path) -> dict[str, list[str]]:
    """Orgs (at the start of a line) and their projects (indented below); "ad hoc" projects are left out."""
    path = Path(data_dir) / CANDIDATES_FILE
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    found: dict[str, list[str]] = {}
    org = None
    for line in lines:
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if not line[0].isspace():
            org = name if NAME.match(name) else None
            if org:
                found.setdefault(org, [])
        elif org and NAME.match(name) and not re.search(r"ad[\s_-]?hoc", name, re.I):
            found[org].append(name)
    return {o: p for o, p in found.items() if p}

"""The Botify REST API over aiohttp: one place for auth, timeouts, retries and readable errors."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from loguru import logger

if TYPE_CHECKING:
    import aiohttp

# aiohttp is imported where a call is made: the home page never needs it, and its import (SSL contexts, CA store)
# was the largest part of building the app at start-up.
API_TIMEOUT = {"total": 60, "connect": 10}
# A large export may stream for minutes; only a stalled connection is an error.
DOWNLOAD_TIMEOUT = {"total": None, "connect": 15, "sock_read": 60}
MAX_RETRY_AFTER = 60.0


class BotifyError(Exception):
    """A Botify call failed; `str(e)` is a message for the user's card."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def auth(self) -> bool:
        return self.status in (401, 403)


def error_message(status: int, body) -> str:
    detail = ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = str(body["error"].get("message") or "")
    said = f" Botify said: “{detail}”." if detail else ""
    if status in (401, 403):
        return (f"Botify refused the token (HTTP {status}).{said} "
                "Connect again with a fresh token from your Botify profile.")
    if status == 404:
        return f"Botify has nothing at that address (HTTP 404): check the organisation, project and analysis.{said}"
    if status == 429:
        return (f"Botify is rate-limiting this project (HTTP 429) and kept refusing after several tries.{said} "
                "Wait a minute and try again.")
    if status >= 500:
        return f"Botify had a server error (HTTP {status}) several times in a row.{said} Try again in a few minutes."
    return f"Botify refused the request (HTTP {status}).{said}"


class BotifyClient:
    """`async with BotifyClient(base_url, token) as api:`. Retries 429 (honouring Retry-After) and 5xx with backoff."""

    def __init__(self, base_url: str, token: str, attempts: int = 4, backoff: float = 0.5):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.attempts = attempts
        self.backoff = backoff
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "BotifyClient":
        import aiohttp

        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(**API_TIMEOUT), headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json", "Accept": "application/json"})
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    def api(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def absolute(self, url: str) -> str:
        """A URL Botify returned: job URLs are paths (`/v1/jobs/1`) on the API's scheme and host."""
        parts = urlsplit(self.base_url)
        return urljoin(f"{parts.scheme}://{parts.netloc}/", url)

    async def call(self, method: str, url: str, json=None, params=None):
        """One API call's JSON answer, retried on rate limits, server errors and network trouble."""
        import aiohttp

        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                async with self.session.request(method, url, json=json, params=params) as resp:
                    if resp.status < 400:
                        return await resp.json(content_type=None)
                    body = await _json_or_none(resp)
                    if resp.status == 429 and not last:
                        await asyncio.sleep(_retry_after(resp, self.backoff * 2 ** (attempt - 1)))
                        continue
                    if resp.status >= 500 and not last:
                        await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                        continue
                    raise BotifyError(error_message(resp.status, body), resp.status)
            except asyncio.TimeoutError:
                if last:
                    raise BotifyError("Botify did not answer in time. Check your connection and try again.") from None
            except aiohttp.ClientError as e:
                if last:
                    host = urlsplit(url).netloc
                    raise BotifyError(f"Could not reach Botify at {host} ({type(e).__name__}). "
                                      "Check your connection and try again.") from None
            logger.info("Botify {} {} failed (attempt {}); retrying", method, urlsplit(url).path, attempt)
            await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def profile(self) -> dict:
        return await self.call("GET", self.api("/authentication/profile"))

    async def analyses(self, org: str, project: str, size: int = 100) -> list[dict]:
        """Every analysis of a project, following `next` page by page, newest (highest slug) first."""
        first = self.api(f"/analyses/{org}/{project}/light")
        found, page = [], await self.call("GET", first, params={"page": 1, "size": size})
        for _ in range(1000):  # a bound, in case a broken server keeps pointing at itself
            found += page.get("results") or []
            if not page.get("next"):
                break
            page = await self.call("GET", self.absolute(page["next"]))
        return sorted(found, key=lambda a: slug_key(a.get("slug", "")), reverse=True)

    async def collections(self, org: str, project: str) -> list[dict]:
        return await self.call("GET", self.api(f"/projects/{org}/{project}/collections"))

    async def aggregate(self, org: str, project: str, body: dict) -> float:
        answer = await self.call("POST", self.api(f"/projects/{org}/{project}/query"), json=body)
        results = answer.get("results") or [{}]
        metrics = results[0].get("metrics") or [0]
        return metrics[0] or 0

    async def start_job(self, body: dict) -> str:
        """Create an export job; its URL (as Botify gave it) to poll."""
        answer = await self.call("POST", self.api("/jobs"), json=body)
        if not answer.get("job_url"):
            raise BotifyError("Botify accepted the export but gave no job address to follow.")
        return answer["job_url"]

    async def job(self, job_url: str) -> dict:
        return await self.call("GET", self.absolute(job_url))

    async def stream(self, url: str, chunk_size: int = 1 << 20):
        """Yield `(chunk, total_bytes_or_None)` of a download, which lives on another host (no token sent there)."""
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(**DOWNLOAD_TIMEOUT)) as plain:
            try:
                async with plain.get(url) as resp:
                    if resp.status >= 400:
                        raise BotifyError(f"The export file could not be downloaded (HTTP {resp.status}). "
                                          "Retry the download.", resp.status)
                    async for chunk in resp.content.iter_chunked(chunk_size):
                        yield chunk, resp.content_length
            except asyncio.TimeoutError:
                raise BotifyError("The download stalled. Retry the download.") from None
            except aiohttp.ClientPayloadError:
                raise BotifyError("The download was cut short. Retry the download.") from None
            except aiohttp.ClientError as e:
                raise BotifyError(f"The download failed ({type(e).__name__}). Retry the download.") from None


def slug_key(slug: str) -> tuple:
    """`20240101-2` sorts after `20240101` and before `20240102`."""
    date, _, suffix = slug.partition("-")
    return (date, int(suffix) if suffix.isdigit() else 0, suffix)


def _retry_after(resp, fallback: float) -> float:
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(resp.headers.get("Retry-After", ""))))
    except ValueError:
        return fallback


async def _json_or_none(resp):
    try:
        return await resp.json(content_type=None)
    except Exception:
        return None

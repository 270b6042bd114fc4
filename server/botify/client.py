"""The Botify REST API over aiohttp: one place for auth, timeouts, retries and readable errors."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

import aiohttp
from loguru import logger

API_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
# A large export may stream for minutes; only a stalled connection is an error.
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=15, sock_read=60)
MAX_RETRY_AFTER = 60.0
JOB_PAGES = 5  # how far back the jobs list is searched for a job an uncertain POST may have created
JOB_PAGE_SIZE = 50

# Botify's documented error codes (botify-hq/developers-docs api/error-codes.md) in words a user can act on.
CODES = {
    "1001": "Botify refused the token. Connect again with a fresh token from your Botify profile.",
    "1002": "This token has no access to that project or feature. Check the project in Botify, or connect with "
            "another account's token.",
    "1004": "Botify has no such analysis in this project. Pick another analysis.",
    "1010": "Botify has no such project for this account. Check the project address, or pick another project.",
    "1016": "Botify needs at least one field for this export. Tick at least one column.",
    "1027": "Botify exports at most 10 fields at a time. Untick some columns.",
    "1028": "Botify exports at most one multi-valued field at a time. Untick some columns.",
    "1029": "Botify does not know a field this export asked for (it may not exist in this analysis). "
            "Go back to the fields and untick it.",
    "1034": "This feature is not enabled for the project in Botify; ask your Botify account manager.",
    "1043": "The query is too big for Botify to run. Try a smaller depth.",
    "1052": "An export is already running for this analysis in Botify. Wait for it to finish, then try again.",
    "1053": "Botify is rate-limiting this account (too many requests, or the day's 50 exports are used up). "
            "Wait a minute and try again.",
    "1058": "An export is already running for this project in Botify. Wait for it to finish, then try again.",
    "1059": "Botify no longer has this export. Start a new export.",
    "1060": "Botify reports that the export failed. Start a new export.",
}


class BotifyError(Exception):
    """A Botify call failed; `str(e)` is a message for the user's card."""

    def __init__(self, message: str, status: int | None = None, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code

    @property
    def auth(self) -> bool:
        return self.status in (401, 403) or self.code == "1001"

    @property
    def gone(self) -> bool:
        """The thing asked for does not exist (any more)."""
        return self.status == 404 or self.code in ("1004", "1010", "1059")


def error_code(body) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("error_code") or "")
    return ""


def error_message(status: int, body) -> str:
    detail = ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = str(body["error"].get("message") or "")
    said = f" Botify said: “{detail}”." if detail else ""
    if (code := error_code(body)) in CODES:
        return f"{CODES[code]} (HTTP {status}, code {code})"
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


class _Again(Exception):
    """A call worth repeating; `uncertain` when Botify may have acted on it (timeout, disconnect, 5xx)."""

    def __init__(self, error: BotifyError, uncertain: bool, delay: float | None = None):
        super().__init__(str(error))
        self.error, self.uncertain, self.delay = error, uncertain, delay


class BotifyClient:
    """`async with BotifyClient(base_url, token) as api:`. Retries 429 (honouring Retry-After) and 5xx with backoff."""

    def __init__(self, base_url: str, token: str, attempts: int = 4, backoff: float = 0.5,
                 timeout: aiohttp.ClientTimeout = API_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token
        self.attempts = attempts
        self.backoff = backoff
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "BotifyClient":
        self.session = aiohttp.ClientSession(timeout=self.timeout, headers={
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

    async def call(self, method: str, url: str, json=None, params=None, recover=None):
        """One API call's JSON answer, retried on rate limits, server errors and network trouble.

        `recover()` runs after a failure that Botify may have acted on; a truthy answer from it is the call's answer."""
        for attempt in range(1, self.attempts + 1):
            delay = self.backoff * 2 ** (attempt - 1)
            try:
                return await self._once(method, url, json, params)
            except _Again as again:
                if recover and again.uncertain and (found := await recover()):
                    return found
                if attempt == self.attempts:
                    raise again.error from None
                delay = delay if again.delay is None else again.delay
            logger.info("Botify {} {} failed (attempt {}); retrying", method, urlsplit(url).path, attempt)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _once(self, method: str, url: str, json, params):
        try:
            async with self.session.request(method, url, json=json, params=params) as resp:
                if resp.status < 400:
                    return await resp.json(content_type=None)
                body = await _json_or_none(resp)
                error = BotifyError(error_message(resp.status, body), resp.status, error_code(body))
                if resp.status == 429:  # refused, so certainly not acted on
                    raise _Again(error, False, _retry_after(resp))
                if resp.status >= 500:
                    raise _Again(error, True)
                raise error
        except asyncio.TimeoutError:
            raise _Again(BotifyError("Botify did not answer in time. Check your connection and try again."),
                         True) from None
        except aiohttp.ClientError as e:
            host = urlsplit(url).netloc
            raise _Again(BotifyError(f"Could not reach Botify at {host} ({type(e).__name__}). "
                                     "Check your connection and try again."), True) from None

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

    async def collection_fields(self, org: str, project: str, collection: str) -> list[str]:
        """The field ids of a collection: `datasets[].fields[].id` of its detail (OpenAPI getCollectionDetail)."""
        detail = await self.call("GET", self.api(f"/projects/{org}/{project}/collections/{collection}"))
        datasets = detail.get("datasets") if isinstance(detail, dict) else None
        return [str(f["id"]) for d in datasets or [] if isinstance(d, dict)
                for f in d.get("fields") or [] if isinstance(f, dict) and f.get("id")]

    async def aggregate(self, org: str, project: str, body: dict) -> float:
        answer = await self.call("POST", self.api(f"/projects/{org}/{project}/query"), json=body)
        results = answer.get("results") or [{}]
        metrics = results[0].get("metrics") or [0]
        return metrics[0] or 0

    async def start_job(self, body: dict) -> str:
        """Create an export job; its URL (as Botify gave it) to poll.

        POST /jobs has no idempotency key, so after an answer that may have been lost (timeout, disconnect, 5xx)
        the jobs list is searched for this job before another is created: one export is never paid for twice."""
        since = datetime.now(timezone.utc) - timedelta(minutes=2)
        answer = await self.call("POST", self.api("/jobs"), json=body, recover=lambda: self.find_job(body, since))
        if isinstance(answer, str):
            return answer
        if not answer.get("job_url") and not answer.get("job_id"):
            raise BotifyError("Botify accepted the export but gave no job address to follow.")
        return answer.get("job_url") or self.api(f"/jobs/{answer['job_id']}")

    async def find_job(self, body: dict, since: datetime | None = None) -> str | None:
        """The URL of an export job created with this body (matched by its `export_job_name`, else by its query).

        A BotifyError means the jobs could not be listed: then nobody knows, and no second job may be created."""
        payload = body.get("payload") or {}
        params = {"job_type": body.get("job_type", "export"), "project": payload.get("project", ""),
                  "size": JOB_PAGE_SIZE}
        for page in range(1, JOB_PAGES + 1):
            answer = await self.call("GET", self.api("/jobs"), params={**params, "page": page})
            for job in answer.get("results") or []:
                if _same_job(job, payload, since):
                    return job.get("job_url") or self.api(f"/jobs/{job['job_id']}")
            if not answer.get("next"):
                break
        return None

    async def job(self, job_url: str) -> dict:
        return await self.call("GET", self.absolute(job_url))

    async def stream(self, url: str, chunk_size: int = 1 << 20):
        """Yield `(chunk, total_bytes_or_None)` of a download, which lives on another host (no token sent there)."""
        async with aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT) as plain:
            try:
                async with plain.get(url) as resp:
                    if resp.status in (403, 404, 410):  # a signed link past its expiry answers 403 (S3) or 404/410
                        raise LinkExpired("The download link has expired (HTTP "
                                          f"{resp.status}). Start a new export to get a fresh file.", resp.status)
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


class LinkExpired(BotifyError):
    """The export's download link no longer works; only a new export gives a new one."""


def _same_job(job: dict, payload: dict, since: datetime | None) -> bool:
    theirs = job.get("payload")
    if not isinstance(theirs, dict):
        return False
    name = payload.get("export_job_name")
    if name and theirs.get("export_job_name"):
        return theirs["export_job_name"] == name
    # Without a name to match, the same query created since the POST began is the one.
    return theirs.get("query") == payload.get("query") and _created_since(job.get("date_created"), since)


def _created_since(value, since: datetime | None) -> bool:
    if since is None:
        return True
    try:
        created = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return (created if created.tzinfo else created.replace(tzinfo=timezone.utc)) >= since


def slug_key(slug: str) -> tuple:
    """`20240101-2` sorts after `20240101` and before `20240102`."""
    date, _, suffix = slug.partition("-")
    return (date, int(suffix) if suffix.isdigit() else 0, suffix)


def _retry_after(resp) -> float | None:
    """Botify documents no Retry-After (rate-limit.md); honour one when sent, else back off."""
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(resp.headers.get("Retry-After", ""))))
    except ValueError:
        return None


async def _json_or_none(resp):
    try:
        return await resp.json(content_type=None)
    except Exception:
        return None

"""The Botify client against the fake on 127.0.0.1: pagination, retries, readable errors, streamed downloads."""
import time

import pytest

from server.botify.client import BotifyClient, BotifyError
from server.botify.normalise import download_export
from tests.fakes.botify import FakeBotify


@pytest.fixture(scope="module")
def fake():
    f = FakeBotify().start()
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def reset(fake):
    fake.rate_limit = fake.server_errors = fake.truncate_downloads = 0
    fake.unauthorized_from = None
    fake.page_size_cap = 100
    yield


def client(fake, token="good-token"):
    return BotifyClient(fake.api_url, token, backoff=0.05)


async def test_profile_gives_the_username(fake):
    async with client(fake) as api:
        assert (await api.profile())["data"]["username"] == "ada.lovelace"


async def test_a_bad_token_is_a_clear_auth_error(fake):
    async with client(fake, "wrong") as api:
        with pytest.raises(BotifyError, match="refused the token.*Not Authorized") as e:
            await api.profile()
    assert e.value.auth


async def test_analyses_follow_every_page_newest_first(fake):
    fake.projects[("acme", "many")] = type(fake.projects[("acme", "shop")])(analyses=[
        {"slug": s, "name": s, "status": st} for s, st in [
            ("20240101", "success"), ("20240301", "success"), ("20240101-2", "success"),
            ("20240201", "failed"), ("20231201", "success")]])
    fake.page_size_cap = 2
    async with client(fake) as api:
        found = await api.analyses("acme", "many")
    assert [a["slug"] for a in found] == ["20240301", "20240201", "20240101-2", "20240101", "20231201"]
    pages = [r["query"].get("page") for r in fake.requests if r["path"] == "/v1/analyses/acme/many/light"]
    assert pages == ["1", "2", "3"]


async def test_rate_limit_is_retried_after_the_servers_delay(fake):
    fake.rate_limit, fake.retry_after = 2, "0.3"
    started = time.monotonic()
    async with client(fake) as api:
        assert await api.collections("acme", "shop")
    assert time.monotonic() - started >= 0.6


async def test_server_errors_are_retried_then_reported(fake):
    fake.server_errors = 2
    async with client(fake) as api:
        assert await api.collections("acme", "shop")
    fake.server_errors = 10
    async with client(fake) as api:
        with pytest.raises(BotifyError, match="server error \\(HTTP 503\\)"):
            await api.collections("acme", "shop")


async def test_unknown_project_says_so(fake):
    async with client(fake) as api:
        with pytest.raises(BotifyError, match="HTTP 404.*Project not found"):
            await api.collections("acme", "nope")


async def test_unreachable_botify_is_a_clear_error():
    async with BotifyClient("http://127.0.0.1:9/v1", "t", attempts=2, backoff=0.01) as api:
        with pytest.raises(BotifyError, match="Could not reach Botify"):
            await api.profile()


async def test_job_url_is_relative_to_the_api_host_and_the_file_streams_into_place(fake, tmp_path):
    fake.polls_to_done = 2
    async with client(fake) as api:
        job_url = await api.start_job({"job_type": "export", "payload": {
            "username": "acme", "project": "shop", "query": {"query": {
                "dimensions": ["url", "crawl.20240301.outlinks_internal.graph.url"], "metrics": []}}}})
        assert job_url.startswith("/v1/jobs/")
        assert (await api.job(job_url))["job_status"] == "CREATED"
        done = await api.job(job_url)
        final = tmp_path / "shop_20240301_links.csv"
        seen = []
        written = await download_export(api.stream(done["results"]["download_url"]), final, ["source", "target"],
                                        lambda got, total: seen.append((got, total)))
    assert written.rows == 420
    assert final.read_text().splitlines()[:2] == ["source,target", '"https://www.example.com/search?q=a,b",'
                                                  "https://www.example.com/p1"]
    assert seen and seen[-1][0] == seen[-1][1]


async def test_truncated_download_leaves_no_file(fake, tmp_path):
    fake.polls_to_done = 2
    async with client(fake) as api:
        job_url = await api.start_job({"job_type": "export", "payload": {
            "username": "acme", "project": "shop", "query": {"query": {"dimensions": ["url"], "metrics": []}}}})
        await api.job(job_url)
        url = (await api.job(job_url))["results"]["download_url"]
        fake.truncate_downloads = 1
        with pytest.raises(BotifyError, match="cut short"):
            await download_export(api.stream(url), tmp_path / "m.csv", ["id"])
    assert list(tmp_path.iterdir()) == []

"""The Botify client against the fake on 127.0.0.1: pagination, retries, readable errors, streamed downloads."""
import time

import aiohttp
import pytest

from server.botify.client import BotifyClient, BotifyError, LinkExpired
from server.botify.normalise import download_export
from tests.fakes.botify import FakeBotify


@pytest.fixture(scope="module")
def fake():
    f = FakeBotify().start()
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def reset(fake):
    fake.reset()
    fake.page_size_cap = 100
    fake.header_mode = fake.sep_mode = "request"
    yield


def client(fake, token="good-token"):
    return BotifyClient(fake.api_url, token, backoff=0.05)


async def test_profile_gives_the_username(fake):
    async with client(fake) as api:
        assert (await api.profile())["data"]["username"] == "ada.lovelace"


async def test_a_bad_token_is_a_clear_auth_error(fake):
    async with client(fake, "wrong") as api:
        with pytest.raises(BotifyError, match="refused the token.*code 1001") as e:
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


async def test_a_retry_after_header_is_honoured_when_sent(fake):
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
        with pytest.raises(BotifyError, match="no such project.*pick another project.*HTTP 404, code 1010") as e:
            await api.collections("acme", "nope")
    assert e.value.gone


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


LINKS = {"dimensions": ["url", "crawl.20240301.outlinks_internal.graph.url"], "metrics": []}


def export_body(name: str, query=None, **payload) -> dict:
    return {"job_type": "export", "payload": {
        "username": "acme", "project": "shop", "export_job_name": name,
        "query": {"collections": ["crawl.20240301"], "query": query or LINKS}, **payload}}


async def test_rate_limit_without_retry_after_backs_off_and_says_code_1053(fake):
    fake.rate_limit = 2  # Botify documents no Retry-After: the client backs off on its own
    async with client(fake) as api:
        assert await api.collections("acme", "shop")
    fake.rate_limit = 10
    async with client(fake) as api:
        with pytest.raises(BotifyError, match="rate-limiting.*code 1053"):
            await api.collections("acme", "shop")


async def test_an_unknown_field_is_refused_with_a_plain_message(fake):
    before = fake.job_creations
    async with client(fake) as api:
        with pytest.raises(BotifyError, match="does not know a field.*code 1029"):
            await api.start_job(export_body("x", {"dimensions": ["url", "crawl.20240301.nope"], "metrics": []}))
    assert fake.job_creations == before


async def test_an_export_already_running_is_a_plain_message(fake):
    fake.export_running = 1
    async with client(fake) as api:
        with pytest.raises(BotifyError, match="already running.*code 1058"):
            await api.start_job(export_body("x"))


@pytest.mark.parametrize("how", ["disconnect", "503", "hang"])
async def test_a_lost_answer_to_post_jobs_finds_the_job_instead_of_creating_another(fake, how):
    fake.lose_job_answers, fake.lost_answer = 1, how
    before = fake.job_creations
    name = f"pipedeck links 20240301 {how}"
    async with BotifyClient(fake.api_url, "good-token", backoff=0.05,
                            timeout=aiohttp.ClientTimeout(total=0.5)) as api:
        job_url = await api.start_job(export_body(name))
    assert fake.job_creations == before + 1
    created = max(fake.jobs)
    assert job_url == f"/v1/jobs/{created}" and fake.jobs[created]["body"]["payload"]["export_job_name"] == name


async def test_find_job_matches_the_query_when_names_are_not_echoed(fake):
    async with client(fake) as api:
        url = await api.start_job(export_body("", {"dimensions": ["url", "crawl.20240301.depth"], "metrics": []}))
        found = await api.find_job(export_body("", {"dimensions": ["url", "crawl.20240301.depth"], "metrics": []}))
        assert found.endswith(url)
        assert await api.find_job(export_body("never created")) is None


@pytest.mark.parametrize("header", ["always", "never"])
@pytest.mark.parametrize("sep", ["always", "never"])
async def test_every_file_variant_normalises_to_the_same_rows(fake, tmp_path, header, sep):
    fake.header_mode, fake.sep_mode, fake.polls_to_done = header, sep, 2
    async with client(fake) as api:
        job_url = await api.start_job(export_body(f"variant {header} {sep}"))
        await api.job(job_url)
        url = (await api.job(job_url))["results"]["download_url"]
        written = await download_export(api.stream(url), tmp_path / "l.csv", ["source", "target"])
    lines = (tmp_path / "l.csv").read_text().splitlines()
    assert written.rows == 420 and len(lines) == 421
    assert lines[:2] == ["source,target", '"https://www.example.com/search?q=a,b",https://www.example.com/p1']


async def test_an_expired_link_and_a_vanished_job_say_so(fake, tmp_path):
    fake.polls_to_done, fake.link_ttl = 2, 0.0
    async with client(fake) as api:
        job_url = await api.start_job(export_body("expiring"))
        await api.job(job_url)
        url = (await api.job(job_url))["results"]["download_url"]
        with pytest.raises(LinkExpired, match="expired"):
            await download_export(api.stream(url), tmp_path / "l.csv", ["source", "target"])
        fake.vanish_kinds = {"links"}
        with pytest.raises(BotifyError) as e:
            await api.job(job_url)
    assert e.value.gone and list(tmp_path.iterdir()) == []


async def test_collection_fields_come_from_the_collection_detail(fake):
    async with client(fake) as api:
        fields = await api.collection_fields("acme", "shop", "crawl.20240301")
        assert "crawl.20240301.segments.template.value" in fields
        with pytest.raises(BotifyError) as e:
            await api.collection_fields("acme", "shop", "crawl.19990101")
    assert e.value.gone

"""The link-graph workflow over real HTTP: `./pipedeck serve` against the fake Botify on 127.0.0.1."""
import json
import os
import sqlite3
import stat
import time
from urllib.parse import urlencode

import pytest

from tests.fakes.botify import FakeBotify, FakeProject
from tests.support import ServerProcess

HX = {"HX-Request": "true"}
TOKEN = "good-token"
FAST = {"PIPEDECK_POLL_INTERVAL": "0.1"}
ALL_FIELDS = ("pagetype", "compliant", "canonical", "sitemap", "impressions", "clicks")


def run_url(project: str, org: str = "acme") -> str:
    return f"https://app.botify.com/{org}/{project}/"


class Driver:
    """Walks the workflow the way htmx does: card GETs and form posts."""

    def __init__(self, server, project: str, org: str = "acme"):
        self.server, self.http = server, server.client()
        self.run_id = run_url(project, org)

    def connect(self, token=TOKEN):
        return self.http.post("/botify/connect", data={"token": token}, headers=HX)

    def init(self, raw=None):
        return self.http.post("/linkgraph/init", data={"pipeline_id": raw or self.run_id}, headers=HX)

    def card(self, step):
        return self.http.get(f"/linkgraph/{step}", params={"pipeline_id": self.run_id}, headers=HX).text

    def analyses(self):
        return self.http.get("/linkgraph/analysis/analyses", params={"pipeline_id": self.run_id}, headers=HX).text

    def submit(self, step, **fields):
        return self.http.post(f"/linkgraph/{step}/submit", data={"pipeline_id": self.run_id, **fields}, headers=HX).text

    def wait(self, step, until="card-locked", timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.card(step)
            if until in text:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{step} never showed {until!r}; last card:\n{text}")

    def pick(self, slug):
        self.init()
        self.analyses()
        return self.submit("analysis", slug=slug)

    def export(self, slug="20240301", fields=ALL_FIELDS):
        self.pick(slug)
        self.wait("depth")
        return self.submit("fields", fields_sent="1", **{f"field_{f}": f for f in fields})

    def blob(self):
        with sqlite3.connect(self.server.data_dir / "pipedeck.db") as db:
            row = db.execute("SELECT data FROM pipeline WHERE workflow='linkgraph' AND id=?", [self.run_id]).fetchone()
        return json.loads(row[0]) if row else None

    def folder(self, project=None):
        return self.server.downloads_dir / "link-graph" / "acme" / (project or self.run_id.rstrip("/").split("/")[-1])


@pytest.fixture(scope="module")
def fake():
    f = FakeBotify().start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def app(fake, tmp_path_factory):
    base = tmp_path_factory.mktemp("linkgraph")
    proc = ServerProcess(base / "data", base / "downloads", env={"BOTIFY_API_URL": fake.api_url, **FAST}).start()
    Driver(proc, "shop").connect()
    yield proc
    proc.stop()


@pytest.fixture
def project(fake, request):
    """A fresh project on the fake for one test, named after it, and faults reset."""
    name = request.node.name.replace("_", "-")[:60]
    fake.projects[("acme", name)] = FakeProject()
    fake.reset()
    fake.retry_after = None
    return name


def test_dirty_url_becomes_the_clean_run_id(app, project):
    d = Driver(app, project)
    r = d.init(f"https://app.botify.com/acme/{project}/segmentation/?x=1")
    assert r.headers["HX-Push-Url"] == "/linkgraph?" + urlencode({"pipeline_id": run_url(project)})
    assert d.blob() is not None


def test_a_url_that_is_not_botify_is_refused_with_no_run(app):
    d = Driver(app, "shop")
    text = d.init("https://www.example.com/acme/shop/").text
    assert "not a Botify project address" in text
    with sqlite3.connect(app.data_dir / "pipedeck.db") as db:
        assert db.execute("SELECT count(*) FROM pipeline WHERE id LIKE '%example.com%'").fetchone()[0] == 0


def test_three_pages_of_analyses_newest_first_with_failed_one_unpickable(app, fake, project):
    fake.projects[("acme", project)].analyses = [
        {"slug": s, "name": f"crawl {s}", "status": st} for s, st in [
            ("20240101", "success"), ("20240301", "success"), ("20240101-2", "success"),
            ("20240201", "failed"), ("20231201", "success")]]
    fake.page_size_cap = 2
    try:
        d = Driver(app, project)
        d.init()
        html = d.analyses()
    finally:
        fake.page_size_cap = 100
    order = [html.index(f'value="{s}"') for s in ("20240301", "20240201", "20240101-2", "20240101", "20231201")]
    assert order == sorted(order)
    failed = html[html.index('value="20240201"') - 80: html.index('value="20240201"') + 80]
    assert "disabled" in failed and "failed in Botify, so it cannot be exported" in html
    assert "refused" not in d.submit("analysis", slug="20240101-2")
    assert d.blob()["analysis"]["slug"] == "20240101-2"


def test_failed_analysis_cannot_be_submitted(app, fake, project):
    fake.projects[("acme", project)].analyses.append({"slug": "20240101", "name": "x", "status": "failed"})
    text = Driver(app, project).pick("20240101")
    assert "only finished analyses can be exported" in text


def test_full_export_with_exact_payloads_and_files(app, fake, project):
    d = Driver(app, project)
    before = len(fake.requests)
    d.export("20240301", fields=("pagetype", "clicks"))
    final = d.wait("finalize", until="View graph")
    requests = fake.requests[before:]
    depth_bodies = [r["body"] for r in requests if r["path"].endswith(f"/{project}/query")]
    assert depth_bodies == [{
        "collections": ["crawl.20240301"],
        "query": {"dimensions": [],
                  "metrics": [{"function": "sum", "args": ["crawl.20240301.outlinks_internal.nb.total"]}],
                  "filters": {"field": "crawl.20240301.depth", "predicate": "lte", "value": d}}} for d in (1, 2, 3, 4)]
    jobs = [r["body"] for r in requests if r["path"] == "/v1/jobs" and r["method"] == "POST"]
    names = [j["payload"].pop("export_job_name") for j in jobs]
    assert names[0].startswith("pipedeck links 20240301 ") and names[1].startswith("pipedeck meta 20240301 ")
    common = {"username": "acme", "project": project, "connector": "direct_download", "formatter": "csv",
              "formatter_config": {"delimiter": ",", "print_delimiter": False, "print_header": True,
                                   "header_format": "verbose"},
              "extra_config": {"compression": "gzip"}, "export_size": 1000000}
    assert jobs == [
        {"job_type": "export", "payload": {**common, "query": {
            "collections": ["crawl.20240301"],
            "query": {"dimensions": ["url", "crawl.20240301.outlinks_internal.graph.url"], "metrics": [],
                      "filters": {"field": "crawl.20240301.depth", "predicate": "lte", "value": 4}}}}},
        {"job_type": "export", "payload": {**common, "query": {
            "collections": ["crawl.20240301", "search_console"], "periods": [["2024-02-01", "2024-03-01"]],
            "query": {"dimensions": ["crawl.20240301.url", "crawl.20240301.segments.pagetype.value"],
                      "metrics": ["search_console.period_0.count_clicks"]}}}}]
    links = d.folder() / f"{project}_20240301_links.csv"
    meta = d.folder() / f"{project}_20240301_meta.csv"
    assert links.read_text().splitlines()[0] == "source,target"
    assert meta.read_text().splitlines()[:2] == ["id,pagetype,clicks", "https://www.example.com/p0,home,0"]
    assert len(links.read_text().splitlines()) == 421 and "420" in final and "64" in final
    assert f"/graph/acme/{project}/20240301" in final and f"/download/acme/{project}/{links.name}" in final
    blob = d.blob()
    assert blob["depth"]["depth"] == 4 and blob["depth"]["counts"] == [40, 180, 420, 420]
    assert blob["jobs"]["links"]["job_url"].startswith("/v1/jobs/") and blob["jobs"]["meta"]["job_url"]
    served = d.http.get(f"/download/acme/{project}/{links.name}")
    assert served.status_code == 200 and served.content == links.read_bytes()
    assert "access-control-allow-origin" not in {k.lower() for k in served.headers}


def test_revert_fields_reuses_the_links_job_and_replaces_only_meta(app, fake, project):
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    d.wait("finalize", until="View graph")
    before = fake.job_creations
    d.http.post("/linkgraph/fields/revert", data={"pipeline_id": d.run_id, "confirm": "1"}, headers=HX)
    d.submit("fields", fields_sent="1", field_pagetype="pagetype")  # the same answer again: nothing new
    d.wait("finalize", until="View graph")
    assert fake.job_creations == before
    d.http.post("/linkgraph/fields/revert", data={"pipeline_id": d.run_id, "confirm": "1"}, headers=HX)
    d.submit("fields", fields_sent="1", field_sitemap="sitemap", field_clicks="clicks")
    d.wait("finalize", until="View graph")
    assert fake.job_creations == before + 1
    meta = d.folder() / f"{project}_20240301_meta.csv"
    assert meta.read_text().splitlines()[0] == "id,sitemap,clicks"


def test_project_without_search_console_offers_no_metrics_and_sends_no_periods(app, fake, project):
    fake.projects[("acme", project)].search_console = False
    d = Driver(app, project)
    d.pick("20240301")
    d.wait("depth")
    card = d.card("fields")
    assert "field_pagetype" in card and "field_impressions" not in card and "field_clicks" not in card
    before = len(fake.requests)
    d.submit("fields", fields_sent="1", field_pagetype="pagetype", field_impressions="impressions")
    meta = [r["body"] for r in fake.requests[before:] if r["path"] == "/v1/jobs"][1]["payload"]["query"]
    assert "periods" not in meta and meta["collections"] == ["crawl.20240301"]
    assert meta["query"]["metrics"] == []


def test_depth_over_the_limit_picks_the_last_depth_within(app, fake, project):
    fake.projects[("acme", project)].depth_counts = [5000, 800_000, 3_000_000]
    d = Driver(app, project)
    d.pick("20240301")
    text = d.wait("depth")
    assert "Depth 2" in text and "800,000" in text and d.blob()["depth"]["depth"] == 2


def test_job_that_ends_failed_shows_why_and_can_start_a_new_one(app, fake, project):
    fake.fail_kinds = {"meta"}
    d = Driver(app, project)
    d.export()
    text = d.wait("files", until="could not make")
    assert "The export failed" in text and "Start a new page metadata export" in text
    fake.fail_kinds = set()
    d.http.post("/linkgraph/files/restart", data={"pipeline_id": d.run_id, "kind": "meta"}, headers=HX)
    d.wait("finalize", until="View graph")
    assert sum(1 for j in fake.jobs.values() if j["project"] == ("acme", project)) == 3
    assert [r["why"] for r in d.blob()["jobs"]["meta"]["replaced"]] == ["failed"]


def test_unauthorized_mid_workflow_says_connect_again(app, fake, project):
    d = Driver(app, project)
    d.pick("20240301")
    d.wait("depth")
    fake.unauthorized_from = fake.calls + 1
    text = d.submit("fields", fields_sent="1", field_pagetype="pagetype")
    assert "refused the token" in text and "code 1001" in text and 'href="/botify"' in text
    assert "fields" not in d.blob()


def test_unauthorized_while_polling_stops_with_a_reconnect_link_then_resumes(app, fake, project):
    fake.polls_to_done = 6
    try:
        d = Driver(app, project)
        d.export(fields=("pagetype",))
        fake.unauthorized_from = fake.calls + 1
        text = d.wait("files", until="Try again")
        assert "refused the token" in text and 'href="/botify"' in text
        fake.unauthorized_from = None
        creations = fake.job_creations
        d.http.post("/linkgraph/files/retry", data={"pipeline_id": d.run_id}, headers=HX)
        d.wait("finalize", until="View graph")
        assert fake.job_creations == creations
    finally:
        fake.polls_to_done = 3


def test_rate_limit_is_honoured_and_the_workflow_carries_on(app, fake, project):
    fake.rate_limit, fake.retry_after = 2, "1"
    d = Driver(app, project)
    d.init()
    started = time.monotonic()
    html = d.analyses()
    assert time.monotonic() - started >= 2.0
    assert 'value="20240301"' in html


def test_truncated_download_leaves_no_file_and_offers_retry(app, fake, project):
    fake.truncate_downloads = 1
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    text = d.wait("files", until="Try again")
    assert "cut short" in text
    # The meta file may be saved already; the cut-short links file exists under no name, final or temporary.
    names = [p.name for p in d.folder().iterdir()] if d.folder().exists() else []
    assert f"{project}_20240301_links.csv" not in names and not any(n.endswith(".part") for n in names)
    creations = fake.job_creations
    d.http.post("/linkgraph/files/retry", data={"pipeline_id": d.run_id}, headers=HX)
    d.wait("finalize", until="View graph")
    assert fake.job_creations == creations
    assert sorted(p.name for p in d.folder().iterdir()) == [f"{project}_20240301_links.csv",
                                                          f"{project}_20240301_meta.csv"]


def test_existing_files_make_an_analysis_unpickable_and_are_listed(app, fake, project):
    d = Driver(app, project)
    d.folder().mkdir(parents=True)
    (d.folder() / f"{project}_20240301_links.csv").write_text("source,target\na,b\n")
    (d.folder() / f"{project}_20240301_meta.csv").write_text("id\na\n")
    (d.folder() / f"{project}_20240201_links.csv").write_text("source,target\na,b\n")
    d.init()
    card = d.card("analysis")
    assert "Already downloaded" in card and f"/graph/acme/{project}/20240301" in card
    html = d.analyses()
    complete = html[html.index('value="20240301"') - 60: html.index('value="20240301"') + 60]
    assert "disabled" in complete and "already downloaded: open it" in html and "links only downloaded" in html
    assert f"/download/acme/{project}/" not in html  # the links are in the list above, not repeated here
    assert "already downloaded" in d.submit("analysis", slug="20240301")
    # A links-only analysis exports just the metadata: the links file is not made again.
    before = fake.job_creations
    d.submit("analysis", slug="20240201")
    d.wait("depth")
    d.submit("fields", fields_sent="1", field_pagetype="pagetype")
    d.wait("finalize", until="View graph")
    assert fake.job_creations == before + 1


def test_connect_refuses_a_bad_token_and_keeps_the_good_one_private(app):
    d = Driver(app, "shop")
    text = d.connect("not-a-token").text
    assert "refused the token" in text and 'name="token"' in text
    saved = app.data_dir / "botify_token.json"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600 and json.loads(saved.read_text())["token"] == TOKEN
    assert "ada.lovelace" in d.http.get("/botify").text


def test_download_route_never_leaves_the_downloads_folder(app):
    http = Driver(app, "shop").http
    (app.data_dir / "secret.csv").write_text("nope")
    for path in ("/download/acme/shop/..%2F..%2F..%2Fdata%2Fsecret.csv", "/download/..%2F..%2Fdata/x/secret.csv",
                 "/download/acme/shop/.shop_1_links.csv.x.part", "/download/acme/shop/missing.csv"):
        r = http.get(path)
        assert r.status_code == 404 and "nope" not in r.text


def test_token_never_appears_in_logs_or_database(app, fake, project):
    d = Driver(app, project)
    d.connect()
    fake.truncate_downloads = 1  # an error path too, whose message is logged and shown
    d.export(fields=("pagetype",))
    d.wait("files", until="Try again")
    d.http.post("/linkgraph/files/retry", data={"pipeline_id": d.run_id}, headers=HX)
    d.wait("finalize", until="View graph")
    token = TOKEN.encode()
    assert token not in (app.data_dir / "pipedeck.db").read_bytes()
    for wal in app.data_dir.glob("pipedeck.db-*"):
        assert token not in wal.read_bytes()
    for log in [*app.data_dir.rglob("*.log"), app.log_path]:
        assert token not in log.read_bytes(), log
    assert TOKEN not in "".join(app.output)

"""The link-graph cards when Botify or the disk misbehaves, over real HTTP against the fake Botify on 127.0.0.1:
per-project segments and fields, lost answers, vanished jobs, expired links, a full downloads disk."""
import subprocess

import pytest

from tests.fakes.botify import FakeProject
from tests.reliability_support import tiny_tmpfs
from tests.support import ServerProcess
# The same fake and app fixtures as the workflow tests (module-scoped: this module gets its own of each).
from tests.test_botify_workflow import FAST, HX, Driver, app, fake  # noqa: F401 (fixtures)


@pytest.fixture
def project(fake, request):
    name = request.node.name.replace("_", "-").replace("[", "-").replace("]", "")[:60]
    fake.projects[("acme", name)] = FakeProject()
    fake.reset()
    fake.polls_to_done = 3
    return name


def job_bodies(fake, project):
    return [j["body"]["payload"] for j in fake.jobs.values() if j["project"] == ("acme", project)]


def test_a_project_without_pagetype_offers_its_own_segmentations(app, fake, project):
    fake.projects[("acme", project)].segments = ("template", "zone")
    d = Driver(app, project)
    d.pick("20240301")
    d.wait("depth")
    card = d.card("fields")
    assert 'name="segment"' in card and '<option value="template" selected>' in card
    assert "Search Console figures cover 1 February 2024 to 1 March 2024" in card
    d.submit("fields", fields_sent="1", field_pagetype="pagetype", segment="zone")
    d.wait("finalize", until="View graph")
    meta = [b for b in job_bodies(fake, project) if "crawl.20240301.url" in b["query"]["query"]["dimensions"]][0]
    assert meta["query"]["query"]["dimensions"] == ["crawl.20240301.url", "crawl.20240301.segments.zone.value"]
    assert "“zone” segmentation" in d.card("fields")


def test_a_segmentation_the_project_lacks_is_refused(app, fake, project):
    d = Driver(app, project)
    d.pick("20240301")
    d.wait("depth")
    text = d.submit("fields", fields_sent="1", field_pagetype="pagetype", segment="nope")
    assert "no segmentation “nope”" in text and job_bodies(fake, project) == []


def test_fields_the_crawl_lacks_are_not_offered(app, fake, project):
    proj = fake.projects[("acme", project)]
    proj.crawl_fields = tuple(f for f in proj.crawl_fields if f != "canonical.to.equal")
    proj.segments = ()
    d = Driver(app, project)
    d.pick("20240301")
    d.wait("depth")
    card = d.card("fields")
    assert "field_canonical" not in card and "field_pagetype" not in card and "field_compliant" in card
    assert "Not in this analysis, so not offered: page type, canonical to itself." in card
    d.submit("fields", fields_sent="1", field_compliant="compliant", field_canonical="canonical")
    d.wait("finalize", until="View graph")
    assert (d.folder() / f"{project}_20240301_meta.csv").read_text().splitlines()[0] == "id,compliant"


def test_an_export_with_no_column_ticked_does_not_start(app, fake, project):
    d = Driver(app, project)
    d.pick("20240301")
    d.wait("depth")
    text = d.submit("fields", fields_sent="1")
    assert "Tick at least one metadata column" in text and job_bodies(fake, project) == []
    assert "fields" not in d.blob()


def test_an_unknown_project_leads_back_to_the_address(app, fake):
    d = Driver(app, "no-such-project")
    d.init()
    r = d.http.get("/linkgraph/analysis/analyses", params={"pipeline_id": d.run_id}, headers=HX)
    assert r.headers["HX-Retarget"] == "#linkgraph-analysis"
    assert "Botify has no project acme/no-such-project" in r.text and "Edit the project address" in r.text
    assert 'for="linkgraph-pipeline-id"' in r.text and "optimal depth" not in r.text and "<form" not in r.text


@pytest.mark.parametrize("how", ["disconnect", "503"])
def test_a_lost_answer_to_starting_an_export_never_creates_a_second_job(app, fake, project, how):
    fake.lose_job_answers, fake.lost_answer = 2, how
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    d.wait("finalize", until="View graph")
    assert len(job_bodies(fake, project)) == 2


def test_a_vanished_job_says_so_and_offers_a_new_export_recorded_in_the_run(app, fake, project):
    fake.vanish_kinds, fake.polls_to_done = {"links"}, 4
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    text = d.wait("files", until="no longer has the link graph export job")
    assert "Start a new link graph export" in text and "Try again" not in text
    fake.vanish_kinds = set()
    d.http.post("/linkgraph/files/restart", data={"pipeline_id": d.run_id, "kind": "links"}, headers=HX)
    d.wait("finalize", until="View graph")
    assert [r["why"] for r in d.blob()["jobs"]["links"]["replaced"]] == ["vanished"]
    assert len(job_bodies(fake, project)) == 3


def test_an_expired_download_link_says_so_and_offers_a_new_export(app, fake, project):
    fake.link_ttl = 0.0
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    d.wait("files", until="Start a new page metadata export")  # each job expires in its own time
    text = d.wait("files", until="Start a new link graph export")
    assert "download link has expired" in text and "Start a new page metadata export" in text
    fake.link_ttl = None
    for kind in ("links", "meta"):
        d.http.post("/linkgraph/files/restart", data={"pipeline_id": d.run_id, "kind": kind}, headers=HX)
    d.wait("finalize", until="View graph")
    assert d.blob()["jobs"]["meta"]["replaced"][0]["why"] == "expired"


def test_job_states_are_plain_words_with_progress(app, fake, project):
    fake.polls_to_done = 10_000
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    text = d.wait("files", until="preparing the file")
    assert "step 2 of 3, Botify is preparing the file, waiting" in text and "<progress" in text
    assert "PROCESSING" not in text and "CREATED" not in text and "checked" not in text
    for job in fake.jobs.values():
        job["polls"] = 10_000
    fake.polls_to_done = 3
    d.wait("finalize", until="View graph")


def test_a_full_downloads_disk_says_so_keeps_nothing_half_written_and_resumes(fake, project, tmp_path):
    fake.projects[("acme", project)].links_rows = 40_000  # about 1.5 MB once decompressed
    downloads = tmp_path / "downloads"
    with tiny_tmpfs(downloads, "256k"):
        server = ServerProcess(tmp_path / "data", downloads, env={"BOTIFY_API_URL": fake.api_url, **FAST}).start()
        try:
            d = Driver(server, project)
            d.connect()
            d.export(fields=("pagetype",))
            text = d.wait("files", until="Try again")
            assert "disk is full" in text and "Something went wrong" not in text and "downloading" not in text
            assert not any(p.name.endswith(("_links.csv", ".part")) for p in d.folder().iterdir())
            creations = fake.job_creations
            subprocess.run(["mount", "-o", "remount,size=16m", str(downloads)], check=True)  # space freed
            d.http.post("/linkgraph/files/retry", data={"pipeline_id": d.run_id}, headers=HX)
            d.wait("finalize", until="View graph")
            assert fake.job_creations == creations
            assert len((d.folder() / f"{project}_20240301_links.csv").read_text().splitlines()) == 40_001
        finally:
            server.stop()


def test_a_new_export_that_botify_refused_is_created_once_on_try_again(app, fake, project):
    fake.fail_kinds = {"meta"}
    d = Driver(app, project)
    d.export(fields=("pagetype",))
    d.wait("files", until="Start a new page metadata export")
    fake.fail_kinds, fake.server_errors = set(), 100  # every call fails: the new job cannot be created yet
    text = d.http.post("/linkgraph/files/restart", data={"pipeline_id": d.run_id, "kind": "meta"}, headers=HX).text
    assert "server error" in text and "Try again" in text
    assert d.blob()["jobs"]["meta"]["pending"].startswith("pipedeck meta 20240301 ")
    fake.server_errors = 0
    d.http.post("/linkgraph/files/retry", data={"pipeline_id": d.run_id}, headers=HX)
    d.wait("finalize", until="View graph")
    assert len(job_bodies(fake, project)) == 3 and d.blob()["jobs"]["meta"]["replaced"][0]["why"] == "failed"

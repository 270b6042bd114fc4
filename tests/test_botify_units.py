"""The pure parts of the link-graph workflow: project URLs, candidates, BQL payloads, depth choice, normalising."""
import gzip
import io
import tracemalloc

import pytest

from server.botify.export import (analysis_label, catalog, columns, default_segment, depth_query, links_payload,
                                  local_files, meta_payload, optimal_depth, sc_period, search_done)
from server.botify.normalise import ExportFileError, Normaliser, normalise_file
from server.botify.projects import clean_project_url, read_candidates
from server.engine import Invalid
from tests.fakes.botify import csv_gz, link_rows


@pytest.mark.parametrize("raw", [
    "https://app.botify.com/acme/shop/segmentation/?x=1",
    "  app.botify.com/acme/shop  ",
    "http://APP.botify.com/acme/shop/crawl/20240101/#top",
    "https://app.botify.com/acme/shop?analysis=20240101",
])
def test_dirty_project_urls_are_cleaned(raw):
    assert clean_project_url(raw) == ("acme", "shop", "https://app.botify.com/acme/shop/")


@pytest.mark.parametrize("raw,why", [
    ("https://www.example.com/acme/shop/", "not a Botify project address"),
    ("https://app.botify.com.evil.example/acme/shop/", "not a Botify project address"),
    ("https://app.botify.com/acme/", "names no project"),
    ("", "Paste the address"),
    ("ftp://app.botify.com/acme/shop/", "not a Botify project address"),
])
def test_urls_that_are_not_botify_projects_are_refused(raw, why):
    with pytest.raises(Invalid, match=why):
        clean_project_url(raw)


def test_candidates_file_lists_orgs_and_projects_without_ad_hoc(tmp_path):
    (tmp_path / "candidates.txt").write_text(
        "acme\n  shop\n  blog\n  shop-adhoc\n  Ad Hoc 2024\n\n# a comment\nglobex\n\tmain-site\nempty-org\n")
    assert read_candidates(tmp_path) == {"acme": ["shop", "blog"], "globex": ["main-site"]}
    assert read_candidates(tmp_path / "missing") == {}


def test_depth_query_payload_is_exactly_the_spec():
    assert depth_query("20240101", 3) == {
        "collections": ["crawl.20240101"],
        "query": {"dimensions": [],
                  "metrics": [{"function": "sum", "args": ["crawl.20240101.outlinks_internal.nb.total"]}],
                  "filters": {"field": "crawl.20240101.depth", "predicate": "lte", "value": 3}}}


def test_links_payload_is_the_spec_with_an_explicit_formatter_config_and_a_job_name():
    assert links_payload("acme", "shop", "20240101-2", 4, "pipedeck links 1") == {
        "job_type": "export",
        "payload": {"username": "acme", "project": "shop", "connector": "direct_download", "formatter": "csv",
                    "formatter_config": {"delimiter": ",", "print_delimiter": False, "print_header": True,
                                         "header_format": "verbose"},
                    "extra_config": {"compression": "gzip"}, "export_job_name": "pipedeck links 1",
                    "export_size": 1000000,
                    "query": {"collections": ["crawl.20240101-2"],
                              "query": {"dimensions": ["url", "crawl.20240101-2.outlinks_internal.graph.url"],
                                        "metrics": [],
                                        "filters": {"field": "crawl.20240101-2.depth", "predicate": "lte",
                                                    "value": 4}}}}}


def test_meta_payload_with_search_console_has_periods_and_collection():
    body = meta_payload("acme", "shop", "20240917-2", ["pagetype", "clicks", "sitemap", "impressions"],
                        segment="template", period=["2024-08-19", "2024-09-17"])
    assert body["payload"]["formatter_config"]["print_header"] is True
    assert body["payload"]["query"] == {
        "collections": ["crawl.20240917-2", "search_console"],
        "periods": [["2024-08-19", "2024-09-17"]],
        "query": {"dimensions": ["crawl.20240917-2.url", "crawl.20240917-2.segments.template.value",
                                 "crawl.20240917-2.sitemaps.present"],
                  "metrics": ["search_console.period_0.count_impressions", "search_console.period_0.count_clicks"]}}
    assert columns("meta", ["pagetype", "clicks", "sitemap", "impressions"]) == [
        "id", "pagetype", "sitemap", "impressions", "clicks"]


def test_meta_payload_without_search_console_fields_has_no_periods():
    query = meta_payload("acme", "shop", "20240101", ["compliant"])["payload"]["query"]
    assert query == {"collections": ["crawl.20240101"],
                     "query": {"dimensions": ["crawl.20240101.url", "crawl.20240101.compliant.is_compliant"],
                               "metrics": []}}


@pytest.mark.parametrize("counts,depth", [
    ([10, 200, 5000], 3), ([10, 900_000, 2_000_000], 2), ([1_500_000], 1), ([10, 1_000_000, 1_000_001], 2)])
def test_optimal_depth_is_the_deepest_within_the_limit(counts, depth):
    assert optimal_depth(counts) == depth


def test_depth_search_stops_when_the_count_stops_growing_or_passes_the_limit():
    assert not search_done([10, 20])
    assert search_done([10, 20, 20])
    assert search_done([10, 2_000_000])
    assert search_done(list(range(1, 10)))


def normalise_bytes(data: bytes, cols, chunk=7) -> tuple[bytes, int]:
    out = io.BytesIO()
    norm = Normaliser(out, cols)
    for i in range(0, len(data), chunk):
        norm.feed(data[i:i + chunk])
    rows = norm.close().rows
    return out.getvalue(), rows


def test_normalising_drops_sep_line_renames_header_and_keeps_rows_byte_for_byte():
    raw = csv_gz(["Full URL", "Outlinks Internal: Destination URL"],
                 ['"https://x/a,b",https://x/c', "https://x/c,https://x/d"])
    text, rows = normalise_bytes(raw, ["source", "target"])
    assert text == b'source,target\n"https://x/a,b",https://x/c\nhttps://x/c,https://x/d\n'
    assert rows == 2


def test_normalising_keeps_crlf_and_works_without_sep_line():
    raw = gzip.compress(b"Full URL,Is Compliant\r\nhttps://x/,true\r\nhttps://x/b,false")
    text, rows = normalise_bytes(raw, ["id", "compliant"], chunk=3)
    assert text == b"id,compliant\r\nhttps://x/,true\r\nhttps://x/b,false"
    assert rows == 2


def test_concatenated_gzip_members_are_one_file():
    raw = gzip.compress(b"sep=,\nA,B\n1,2\n") + gzip.compress(b"3,4\n")
    assert normalise_bytes(raw, ["source", "target"], chunk=5) == (b"source,target\n1,2\n3,4\n", 2)


def test_truncated_gzip_leaves_no_final_file(tmp_path):
    src = tmp_path / "cut.csv.gz"
    src.write_bytes(csv_gz(["Full URL", "To"], link_rows(5000))[:-200])
    final = tmp_path / "out" / "shop_20240101_links.csv"
    with pytest.raises(ExportFileError, match="cut short"):
        normalise_file(src, final, ["source", "target"])
    assert not final.exists() and list(final.parent.iterdir()) == []


def test_a_file_that_is_not_gzip_is_refused(tmp_path):
    src = tmp_path / "page.html"
    src.write_bytes(b"<html>Access denied</html>")
    with pytest.raises(ExportFileError, match="not a valid gzip"):
        normalise_file(src, tmp_path / "x.csv", ["source", "target"])
    assert not (tmp_path / "x.csv").exists()


def test_local_files_label_what_exists(tmp_path):
    folder = tmp_path / "link-graph" / "acme" / "shop"
    folder.mkdir(parents=True)
    for name in ("shop_20240101_links.csv", "shop_20240101_meta.csv", "shop_20240201-2_links.csv",
                 ".shop_20240301_links.csv.abc.part", "other_20240101_links.csv"):
        (folder / name).write_text("x\n")
    found = local_files(tmp_path, "acme", "shop")
    assert sorted(found) == ["20240101", "20240201-2"]
    assert sorted(found["20240101"]) == ["links", "meta"] and list(found["20240201-2"]) == ["links"]


def test_a_million_edges_normalise_with_bounded_memory(tmp_path):
    src = tmp_path / "links.csv.gz"
    with gzip.open(src, "wt", compresslevel=1) as gz:
        gz.write("sep=,\nFull URL,Outlinks Internal: Destination URL\n")
        for i in range(0, 1_000_000, 50_000):
            gz.write("".join(f"https://www.example.com/p{j},https://www.example.com/q{j * 7 % 99991}\n"
                             for j in range(i, i + 50_000)))
    final = tmp_path / "links.csv"
    tracemalloc.start()
    try:
        written = normalise_file(src, final, ["source", "target"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written.rows == 1_000_000
    assert final.stat().st_size > 60_000_000
    assert peak < 32 * 1024 * 1024, f"normalising held {peak / 1e6:.0f} MB at once"
    with open(final, "rb") as f:
        assert f.readline() == b"source,target\n"
        assert f.readline() == b"https://www.example.com/p0,https://www.example.com/q0\n"


ROWS = ['"https://x/a,b",https://x/c', "https://x/c,https://x/d"]


@pytest.mark.parametrize("sep", [True, False])
@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_normalising_is_right_with_or_without_sep_line_and_header(sep, header, line_end):
    raw = csv_gz(["Full URL", "Outlinks Internal: Destination URL"] if header else None, ROWS, line_end, sep=sep)
    for chunk in (3, 1 << 16):
        text, rows = normalise_bytes(raw, ["source", "target"], chunk=chunk)
        assert text == ("source,target" + line_end + line_end.join(ROWS) + line_end).encode()
        assert rows == 2


@pytest.mark.parametrize("body,expected,rows", [
    (b"", b"id\n", 0),  # no rows and no header: headers switched off on an empty export
    (b"sep=,\n", b"id\n", 0),
    (b"Full URL", b"id\n", 0),  # a lone header without a final newline
    (b"https://x/", b"id\nhttps://x/", 1),  # a lone data row without a final newline
    (b"\xef\xbb\xbfhttps://x/\n", b"id\nhttps://x/\n", 1),  # a byte-order mark before a data row
    (b"\xef\xbb\xbfsep=,\nurl\nHTTPS://x/\n", b"id\nHTTPS://x/\n", 1),  # raw (non-verbose) header names
])
def test_normalising_edge_files(body, expected, rows):
    assert normalise_bytes(gzip.compress(body), ["id"], chunk=2) == (expected, rows)


def test_collection_fields_decide_what_is_offered_and_which_segments_exist():
    crawl = ["crawl.20240101.url", "crawl.20240101.compliant.is_compliant", "crawl.20240101.segments.template.value",
             "crawl.20240101.segments.pagetype.value", "sitemaps.present"]
    found = catalog(crawl, "20240101", ["search_console.count_clicks"])
    assert found == {"segments": ["pagetype", "template"], "offered": ["pagetype", "compliant", "sitemap", "clicks"]}
    assert catalog(["crawl.20240101.url"], "20240101", None) == {"segments": [], "offered": []}
    assert default_segment(["template", "zone"]) == "template"
    assert default_segment(["template", "pagetype"]) == "pagetype"


@pytest.mark.parametrize("slug,start,end,period", [
    ("20240917", "2023-01-01", "2024-12-31", ["2024-08-19", "2024-09-17"]),  # 30 days up to the crawl
    ("20240917", "2024-09-01", "2024-09-10", ["2024-09-01", "2024-09-10"]),  # clipped to the data
    ("20240917", "2024-10-01", "2025-03-01", ["2024-10-01", "2024-10-30"]),  # the crawl predates the data
    ("20240917", None, None, ["2024-08-19", "2024-09-17"]),
])
def test_search_console_period_comes_from_the_collection_dates(slug, start, end, period):
    assert sc_period(slug, start, end) == period


@pytest.mark.parametrize("slug,name,label", [
    ("20241117", "20241117", "17 November 2024"),
    ("20241117-2", "20241117-2", "17 November 2024 (run 2)"),
    ("20240301", "March crawl", "March crawl (1 March 2024)"),
    ("20240301", "", "1 March 2024"),
])
def test_analyses_get_readable_labels(slug, name, label):
    assert analysis_label(slug, name) == label

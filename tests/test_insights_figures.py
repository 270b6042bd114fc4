"""The per-page figures against networkx on small hand-made graphs: PageRank, inlinks, outlinks, exact orphan
and dead-end sets, and the odd graphs (empty, one page, self-links only, metadata without pagetype)."""
import csv

import networkx as nx
import numpy as np
import pytest

from server.graph.cache import GraphFiles, cached_header
from server.graph.convert import convert
from server.graph.insights import dead_ends, orphan_list
from server.graph.nodes import node_table
from server.graph.rank import pagerank


def graph(folder, links: str, meta: str | None = None, slug="20240101") -> GraphFiles:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"shop_{slug}_links.csv").write_text(links)
    if meta is not None:
        (folder / f"shop_{slug}_meta.csv").write_text(meta)
    return GraphFiles(folder / f"shop_{slug}_links.csv")


def networkx_figures(links: str) -> dict:
    """networkx's PageRank and degrees on the graph the viewer shows: duplicates once, self-links dropped."""
    rows = [r for r in csv.reader(links.splitlines()[1:]) if len(r) == 2 and all(r)]
    g = nx.DiGraph()
    g.add_nodes_from(u for r in rows for u in r)
    g.add_edges_from((s, t) for s, t in rows if s != t)
    rank = nx.pagerank(g, alpha=0.85, tol=1e-12, max_iter=10000)
    return {u: (rank[u], g.in_degree(u), g.out_degree(u)) for u in g}


def pages_rows(files: GraphFiles) -> list[dict]:
    with open(files.pages, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "link-graph" / "acme" / "shop"


SITE = """source,target
home,a
home,b
home,b
a,home
a,b
b,c
c,c
d,home
a,a
"""
META = """url,pagetype
home,home
a,category
b,product
c,product
d,product
lost,product
alone,article
"""


def test_pages_file_matches_networkx_sorted_by_pagerank(folder):
    files = graph(folder, SITE, META)
    convert(files)
    rows = pages_rows(files)
    assert list(rows[0]) == ["url", "pagerank", "inlinks", "outlinks", "pagetype"]
    expected = networkx_figures(SITE)
    assert {r["url"] for r in rows} == set(expected) == {"home", "a", "b", "c", "d"}
    for r in rows:
        rank, inlinks, outlinks = expected[r["url"]]
        assert float(r["pagerank"]) == pytest.approx(rank, abs=1e-9)
        assert (int(r["inlinks"]), int(r["outlinks"])) == (inlinks, outlinks)
    ranks = [float(r["pagerank"]) for r in rows]
    assert ranks == sorted(ranks, reverse=True) and sum(ranks) == pytest.approx(1, abs=1e-12)
    assert rows[0]["pagetype"] in ("product", "home")


def test_orphans_and_dead_ends_are_exact_sets(folder):
    files = graph(folder, SITE, META)
    header = convert(files)
    table = node_table(files, header)
    # d only links out; lost and alone are in the metadata but in no link at all
    count, listed = orphan_list(files)
    assert count == header["orphans"] == 3 and {o["url"] for o in listed} == {"d", "lost", "alone"}
    # c links only to itself: a dead end once its self-link is dropped
    assert {p["url"] for p in dead_ends(table, limit=100)} == {"c"} and header["dead_ends"] == 1
    with open(files.orphans, newline="") as f:
        assert sorted(r["url"] for r in csv.DictReader(f)) == ["alone", "d", "lost"]


@pytest.mark.parametrize("edges", [0, 1, 4, 30])
def test_pagerank_matches_networkx_on_random_graphs(edges):
    rng = np.random.default_rng(edges)
    n = 12
    pairs = {(int(s), int(t)) for s, t in rng.integers(0, n, (edges, 2)) if s != t}
    source = np.array([p[0] for p in pairs], np.uint32)
    target = np.array([p[1] for p in pairs], np.uint32)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(pairs)
    expected = nx.pagerank(g, tol=1e-12, max_iter=10000)
    assert np.abs(pagerank(source, target, n) - [expected[i] for i in range(n)]).max() < 1e-9


def test_empty_graph_gets_an_empty_pages_file(folder):
    files = graph(folder, "source,target\n")
    header = convert(files)
    assert header["nodes"] == 0 and pages_rows(files) == [] and cached_header(files) is not None


def test_single_page_has_all_the_rank(folder):
    files = graph(folder, "source,target\nhome,home\n")
    convert(files)
    assert [(r["url"], float(r["pagerank"]), r["inlinks"], r["outlinks"]) for r in pages_rows(files)] == [
        ("home", 1.0, "0", "0")]


def test_pages_that_link_only_to_themselves_share_the_rank_evenly(folder):
    files = graph(folder, "source,target\na,a\nb,b\nc,c\nd,d\n")
    header = convert(files)
    assert [float(r["pagerank"]) for r in pages_rows(files)] == [0.25] * 4
    assert header["dead_ends"] == 4 and header["edges"] == 0


def test_metadata_without_pagetype_keeps_its_other_columns(folder):
    files = graph(folder, SITE, "url,depth\nhome,0\na,1\nlost,3\n")
    header = convert(files)
    assert [c["name"] for c in header["columns"]] == ["depth"]
    assert list(pages_rows(files)[0]) == ["url", "pagerank", "inlinks", "outlinks", "depth"]
    assert [o["url"] for o in orphan_list(files)[1]] == ["lost"]


def test_pages_file_is_rebuilt_when_the_links_change_and_kept_otherwise(folder):
    from server.graph.convert import ensure_cache

    files = graph(folder, "source,target\na,b\n")
    first = ensure_cache(files)
    assert ensure_cache(files) == first  # the cache is reused: nothing recomputed
    (folder / "shop_20240101_links.csv").write_text("source,target\na,b\nb,c\n")
    assert ensure_cache(files)["nodes"] == 3
    assert {r["url"] for r in pages_rows(files)} == {"a", "b", "c"}
    files.pages.unlink()
    assert cached_header(files) is None  # a deleted pages file is written again on the next visit

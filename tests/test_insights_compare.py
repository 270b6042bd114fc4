"""Two analyses of one project compared on hand-made graphs: exact pages and links added and removed, PageRank
gains and losses against the pages files, and the changes CSV."""
import csv

import pytest

from server.graph.cache import GraphFiles
from server.graph.compare import changes_path, compare
from server.graph.convert import convert

OLD = "source,target\nhome,a\nhome,b\na,b\nb,home\nold,home\n"
NEW = "source,target\nhome,a\nhome,b\nhome,new\nb,home\nnew,a\n"


def graph(folder, slug, links):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"shop_{slug}_links.csv").write_text(links)
    files = GraphFiles(folder / f"shop_{slug}_links.csv")
    return files, convert(files)


def pagerank_of(files):
    with open(files.pages, newline="") as f:
        return {r["url"]: float(r["pagerank"]) for r in csv.DictReader(f)}


def test_compare_lists_exact_page_and_link_changes_and_writes_the_csv(tmp_path):
    folder = tmp_path / "link-graph" / "acme" / "shop"
    a, ha = graph(folder, "2024", OLD)
    b, hb = graph(folder, "2025", NEW)
    summary = compare(a, b, "2025", (ha, hb))
    assert (summary["pages_added"], summary["pages_removed"]) == (1, 1)
    assert summary["added"] == ["new"] and summary["removed"] == ["old"]
    assert (summary["links_added"], summary["links_removed"]) == (2, 2)
    before, after = pagerank_of(a), pagerank_of(b)
    moves = {m["url"]: m["change"] for m in summary["gains"] + summary["losses"]}
    for url, change in moves.items():
        assert change == pytest.approx(after[url] - before[url], abs=1e-12)
    assert set(moves) == {u for u in before if u in after and after[u] != before[u]}
    assert all(m["change"] > 0 for m in summary["gains"]) and all(m["change"] < 0 for m in summary["losses"])
    path = changes_path(a, "2025")
    assert path.name == "shop_2024_vs_2025_changes.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    links = {(r["change"], r["url"], r["target"]) for r in rows if r["change"].startswith("link")}
    assert links == {("link added", "home", "new"), ("link added", "new", "a"),
                     ("link removed", "a", "b"), ("link removed", "old", "home")}
    assert {(r["change"], r["url"]) for r in rows if r["change"].startswith("page ")} == {
        ("page added", "new"), ("page removed", "old")}
    assert compare(a, b, "2025", (ha, hb)) == summary  # the second time from the saved summary

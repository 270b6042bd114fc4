"""Link-graph CSV → cache: exact node ids and edges for small hand-made files, and every odd input."""
import os

import numpy as np
import pytest

from server.files import UnsafePath
from server.graph.catalog import graph_files, list_graphs, viewer_url
from server.graph.cache import GraphFiles, cached_header
from server.graph.convert import convert, ensure_cache, read_nodes
from server.graph.nodes import MISSING, categories, category_codes, node_details, node_table, search_index
from server.graph.search import search


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "link-graph" / "acme" / "shop"


def graph(folder, links, meta=None, slug="20240101"):
    path = write(folder, f"shop_{slug}_links.csv", links)
    if meta is not None:
        write(folder, f"shop_{slug}_meta.csv", meta)
    return GraphFiles(path)


def arrays(files):
    links = np.fromfile(files.array("links"), "<f4").astype(int).reshape(-1, 2).tolist()
    return links, np.fromfile(files.array("inbound"), "<f4").astype(int).tolist()


def test_most_linked_pages_get_the_last_ids_so_they_are_drawn_on_top(folder):
    files = graph(folder, "source,target\nhome,a\na,home\nb,home\nc,home\nc,a\n")
    convert(files)
    assert [(n["url"], n["inbound"]) for n in read_nodes(files).to_pylist()] == [
        ("b", 0), ("c", 0), ("a", 2), ("home", 3)]
    assert arrays(files)[0] == [[3, 2], [2, 3], [0, 3], [1, 3], [1, 2]]


def test_small_graph_has_exact_ids_edges_and_degrees(folder):
    files = graph(folder, "source,target\na,b\nb,c\na,c\nc,a\n")
    header = convert(files)
    assert (header["nodes"], header["edges"], header["duplicates"], header["self_links"]) == (3, 4, 0, 0)
    nodes = read_nodes(files).to_pylist()
    assert [n["url"] for n in nodes] == ["a", "b", "c"]  # fewest inbound links first, ties by first appearance
    assert [(n["inbound"], n["outbound"]) for n in nodes] == [(1, 2), (1, 1), (2, 1)]
    links, inbound = arrays(files)
    assert sorted(links) == [[0, 1], [0, 2], [1, 2], [2, 0]]  # distinct edges, in no particular order
    assert inbound == [1, 1, 2]
    positions = np.fromfile(files.array("positions"), "<f4")
    assert len(positions) == 6 and np.isfinite(positions).all()
    assert positions[4:6].tolist() == [2048.0, 2048.0]  # the most-linked page sits in the middle
    assert header["has_meta"] is False and header["columns"] == []


def test_empty_file_makes_an_empty_graph(folder):
    header = convert(graph(folder, b""))
    assert (header["nodes"], header["edges"]) == (0, 0)


def test_header_only_file_makes_an_empty_graph(folder):
    files = graph(folder, "source,target\n")
    header = convert(files)
    assert (header["nodes"], header["edges"], header["rows"]) == (0, 0, 0)
    assert read_nodes(files).num_rows == 0


def test_duplicate_edges_are_kept_once(folder):
    files = graph(folder, "source,target\na,b\na,b\nb,a\na,b\n")
    header = convert(files)
    assert (header["edges_read"], header["duplicates"], header["edges"]) == (4, 2, 2)
    assert arrays(files)[0] == [[0, 1], [1, 0]]


def test_self_links_are_dropped_but_their_page_stays(folder):
    files = graph(folder, "source,target\na,a\na,b\nc,c\n")
    header = convert(files)
    assert (header["nodes"], header["edges"], header["self_links"]) == (3, 1, 2)
    assert [n["url"] for n in read_nodes(files).to_pylist()] == ["a", "c", "b"]  # b has the one inbound link
    assert arrays(files)[0] == [[0, 2]]


def test_metadata_joins_by_url_ignores_unknown_urls_and_leaves_pages_without_it_empty(folder):
    files = graph(folder, "source,target\nhttps://s/,https://s/a\nhttps://s/a,https://s/b\n",
                  "id,pagetype,impressions\nhttps://s/a,product,12\nhttps://s/,home,40\nhttps://gone/,old,1\n"
                  "https://s/a,duplicate row,99\n")
    header = convert(files)
    assert (header["meta_rows"], header["meta_matched"], header["meta_unknown"]) == (4, 2, 1)
    assert header["columns"] == [{"name": "pagetype", "kind": "category"}, {"name": "impressions", "kind": "number"}]
    nodes = read_nodes(files).to_pylist()
    assert [(n["url"], n["pagetype"], n["impressions"]) for n in nodes] == [
        ("https://s/", "home", 40.0), ("https://s/a", "product", 12.0), ("https://s/b", None, None)]


def test_non_utf8_bytes_are_replaced_not_fatal(folder):
    files = graph(folder, b"source,target\nhttps://s/caf\xe9,https://s/\nhttps://s/,https://s/caf\xe9\n",
                  b"id,pagetype\nhttps://s/caf\xe9,caf\xe9 page\n")
    header = convert(files)
    assert (header["nodes"], header["edges"]) == (2, 2)
    nodes = read_nodes(files).to_pylist()
    assert nodes[0]["url"] == "https://s/caf\ufffd"
    assert nodes[0]["pagetype"] == "caf\ufffd page"


def test_rows_without_a_target_or_with_extra_fields_are_left_out(folder):
    files = graph(folder, "source,target\na,b\nc,\na,b,c\n,d\nb,a\n")
    header = convert(files)
    assert (header["nodes"], header["edges"], header["blank"], header["malformed"]) == (2, 2, 2, 1)


def test_quoted_urls_with_commas_are_one_field(folder):
    files = graph(folder, 'source,target\n"https://s/?a=1,2",https://s/\n')
    convert(files)
    assert read_nodes(files).column("url").to_pylist() == ["https://s/?a=1,2", "https://s/"]


def test_cache_is_reused_until_the_csv_changes(folder):
    files = graph(folder, "source,target\na,b\n")
    first = ensure_cache(files)
    assert ensure_cache(files) == first  # nothing rebuilt: same header, same build time
    with open(files.links, "a") as f:
        f.write("b,c\n")
    assert cached_header(files) is None
    assert ensure_cache(files)["edges"] == 2
    write(folder, files.meta.name, "id,pagetype\na,home\n")  # a metadata file arriving later counts too
    assert cached_header(files) is None
    assert ensure_cache(files)["columns"] == [{"name": "pagetype", "kind": "category"}]
    assert not list(files.header.parent.glob(".*.part"))  # every cache file was renamed into place


def test_missing_links_file_raises(folder):
    with pytest.raises(FileNotFoundError):
        convert(GraphFiles(folder / "shop_20240101_links.csv"))


def test_search_details_and_category_codes(folder):
    files = graph(folder, "source,target\nhttps://s/,https://s/shoes\nhttps://s/shoes,https://s/shoes/red\n"
                          "https://s/,https://s/hats\n",
                  "id,pagetype\nhttps://s/,home\nhttps://s/shoes,category\nhttps://s/hats,category\n")
    header = convert(files)
    table, index = node_table(files, header), search_index(files, header)
    assert [h["url"] for h in search(table, index, "SHOES")] == ["https://s/shoes", "https://s/shoes/red"]
    assert search(table, index, "https://s/hats") == [{"id": 3, "url": "https://s/hats"}]
    assert search(table, index, "nowhere") == [] and search(table, index, "  ") == []
    details = node_details(table, 1)
    assert (details["url"], details["inbound"], details["outbound"], details["pagetype"]) == (
        "https://s/shoes", 1, 1, "category")
    assert node_details(table, 99) is None
    assert categories(table, "pagetype") == [{"value": "category", "count": 2}, {"value": "home", "count": 1}]
    assert category_codes(table, "pagetype").tolist() == [1, 0, MISSING, 0]  # /, shoes, shoes/red, hats


def test_catalog_lists_every_graph_and_refuses_paths_out_of_downloads(tmp_path):
    downloads = tmp_path
    write(downloads / "link-graph" / "acme" / "shop", "shop_20240101_links.csv", "source,target\na,b\n")
    write(downloads / "link-graph" / "beta" / "blog", "blog_20231231-2_links.csv", "source,target\na,b\n")
    write(downloads / "link-graph" / "beta" / "blog", "blog_20231231-2_meta.csv", "id,pagetype\na,home\n")
    write(downloads / "link-graph" / "beta" / "blog", "notes.csv", "x\n")
    os.utime(downloads / "link-graph" / "acme" / "shop" / "shop_20240101_links.csv", (1, 1))
    found = [(g.org, g.project, g.slug, g.has_meta, g.url) for g in list_graphs(downloads)]
    assert found == [("beta", "blog", "20231231-2", True, "/graph/beta/blog/20231231-2"),
                     ("acme", "shop", "20240101", False, "/graph/acme/shop/20240101")]
    assert list_graphs(tmp_path / "nowhere") == []
    assert viewer_url("a b", "p", "s") == "/graph/a%20b/p/s"
    for bad in ("..", "../..", "/etc"):
        with pytest.raises(UnsafePath):
            graph_files(downloads, bad, "shop", "x")


def test_search_never_matches_across_two_urls_and_many_matches_still_rank(folder):
    links = "source,target\nhttps://s/ab,https://s/cd\n" + "".join(
        f"https://s/ab,https://s/x{i}\n" for i in range(6000))
    files = graph(folder, links)
    header = convert(files)
    table, index = node_table(files, header), search_index(files, header)
    assert search(table, index, "abhttps") == []  # "…/ab" followed by "https://s/cd" in the index's bytes
    assert [h["url"] for h in search(table, index, "https://s/X1", limit=3)] == [
        "https://s/x1", "https://s/x10", "https://s/x11"]
    assert len(search(table, index, "https://s/", limit=50)) == 50  # 6002 matches: Arrow's scan


def test_sharded_ids_are_those_of_one_dictionary_encode_over_all_cells():
    """The conversion hashes URLs in shards on every core; the ids and their order must be those of one pass."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from server.graph.distinct import distinct_ids

    rng = np.random.default_rng(5)
    for _ in range(50):
        vocab = [bytes(rng.integers(0, 256, rng.integers(0, 6)).tolist()) for _ in range(rng.integers(1, 40))]
        columns = []
        for _ in range(rng.integers(1, 4)):
            picks = rng.integers(0, len(vocab), rng.integers(1, 200))
            if rng.random() < 0.5:
                picks.sort()  # grouped, as exports list a page's links together: runs of one URL
            values = pa.array([vocab[i] for i in picks], pa.binary())
            cut = int(rng.integers(0, len(values) + 1))  # chunks that are slices, one maybe empty
            columns.append(pa.chunked_array([values.slice(0, cut), values.slice(cut)], pa.binary()))
        values, ids = distinct_ids(columns)
        one_pass = pc.dictionary_encode(pa.chunked_array([c for col in columns for c in col.chunks], pa.binary()))
        assert values.equals(one_pass.chunk(0).dictionary)
        assert np.concatenate(ids).tolist() == [i for c in one_pass.chunks for i in c.indices.to_pylist()]


def test_stable_order_is_numpys_stable_argsort_also_above_16_bits():
    from server.graph.arrays import stable_order

    rng = np.random.default_rng(9)
    for _ in range(200):
        n = int(rng.integers(0, 300))
        counts = rng.integers(0, 4 if rng.random() < 0.5 else 70_000, n)
        counts[rng.integers(0, n, 3) if n else []] = 65_535  # ties at the cap, whose order is then fixed up
        assert stable_order(counts).tolist() == np.argsort(counts, kind="stable").tolist()

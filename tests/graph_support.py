"""Link-graph files as the link-graph workflow writes them, generated: a shop with a home page, categories and
products, so the picture has structure and three page types."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

SITE = "https://shop.example"


def page_urls(n: int) -> list[str]:
    return [f"{SITE}/"] + [f"{SITE}/c/{i}" if i % 50 == 1 else f"{SITE}/p/{i}" for i in range(1, n)]


def page_types(n: int) -> list[str]:
    return ["home"] + ["category" if i % 50 == 1 else "product" for i in range(1, n)]


def site_edges(pages: int, edges: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """About `edges` links: every page to home, home to categories, categories to their products, products to
    their category and to random products (duplicates left in, as crawls have them)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, pages)
    category = ((ids - 1) // 50) * 50 + 1
    src = [ids, np.zeros_like(ids[ids % 50 == 1]), category, ids]
    tgt = [np.zeros_like(ids), ids[ids % 50 == 1], ids, category]
    have = sum(len(s) for s in src)
    if edges > have:
        extra = edges - have
        src.append(rng.integers(1, pages, extra))
        tgt.append(rng.integers(1, pages, extra))
    s, t = np.concatenate(src)[:edges], np.concatenate(tgt)[:edges]
    return s, t


def graph_folder(downloads: Path, org: str = "acme", project: str = "shop") -> Path:
    folder = Path(downloads) / "link-graph" / org / project
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_csv(path: Path, table: pa.Table) -> None:
    """A plain header line then unquoted rows, as the workflow's normalised exports look."""
    with open(path, "wb") as f:
        f.write((",".join(table.column_names) + "\n").encode())
        pcsv.write_csv(table, f, write_options=pcsv.WriteOptions(include_header=False, quoting_style="none"))


def write_site_graph(downloads: Path, pages: int, edges: int, org: str = "acme", project: str = "shop",
                     slug: str = "20240101", meta: bool = True) -> Path:
    """Writes `{project}_{slug}_links.csv` (and `_meta.csv`); returns the links file."""
    folder = graph_folder(downloads, org, project)
    urls = np.array(page_urls(pages), dtype=object)
    s, t = site_edges(pages, edges)
    links = folder / f"{project}_{slug}_links.csv"
    write_csv(links, pa.table({"source": urls[s], "target": urls[t]}))
    if meta:
        types = page_types(pages)
        write_csv(folder / f"{project}_{slug}_meta.csv", pa.table({
            "id": urls, "pagetype": types, "compliant": ["true" if i % 7 else "false" for i in range(pages)],
            "impressions": [(pages - i) * 3 for i in range(pages)]}))
    return links

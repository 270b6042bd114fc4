"""Where a graph's CSVs and its converted cache live, and whether the cache still matches the CSVs.

Kept apart from the conversion so that listing graphs and checking caches never imports numpy or pyarrow."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FORMAT = 3  # bump when the cache layout changes, so old caches are rebuilt
ARRAYS = ("links", "positions", "inbound", "pagerank")  # raw typed arrays the viewer streams
CACHE_DIR = ".graph"  # beside the CSVs, hidden so the folder still shows only what the workflow wrote


@dataclass(frozen=True)
class GraphFiles:
    """Where one graph's CSVs and cache live."""
    links: Path

    @property
    def stem(self) -> str:
        return self.links.name.removesuffix("_links.csv")

    @property
    def meta(self) -> Path:
        return self.links.with_name(f"{self.stem}_meta.csv")

    def cache(self, suffix: str) -> Path:
        return self.links.parent / CACHE_DIR / f"{self.stem}.{suffix}"

    @property
    def header(self) -> Path:
        return self.cache("json")

    @property
    def nodes(self) -> Path:
        return self.cache("nodes.arrow")

    @property
    def search(self) -> Path:
        return self.cache("search.arrow")

    @property
    def pages(self) -> Path:
        """The per-page figures, beside the CSVs: a file for the user, not only a cache."""
        return self.links.with_name(f"{self.stem}_pages.csv")

    @property
    def orphans(self) -> Path:
        return self.links.with_name(f"{self.stem}_orphans.csv")

    def array(self, name: str) -> Path:
        return self.cache(f"{name}.bin")


def signature(files: GraphFiles) -> dict:
    """What the cache was built from: a changed size or mtime of either CSV means rebuild."""
    sig = {"format": FORMAT}
    for key, path in (("links", files.links), ("meta", files.meta)):
        st = path.stat() if path.exists() else None
        sig[key] = [st.st_size, st.st_mtime_ns] if st else None
    return sig


def cached_header(files: GraphFiles) -> dict | None:
    """The cache's header if the cache is complete and matches the CSVs on disk, else None."""
    try:
        header = json.loads(files.header.read_text())
    except (OSError, ValueError):
        return None
    if header.get("source") != signature(files):
        return None
    if not all(p.exists() for p in (files.nodes, files.search, files.pages)):
        return None
    if not all(files.array(a).exists() for a in ARRAYS):
        return None
    if header.get("orphans") is not None and not files.orphans.exists():
        return None
    return header

"""Questions the viewer asks about nodes, answered from the cached node table: search, details, colour codes."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import numpy_of
from .cache import GraphFiles
from .convert import read_nodes

MISSING = 0xFFFFFFFF  # category code of a node without a value
MAX_CATEGORIES = 12  # colours a legend can tell apart; the rest share "other"
_tables: dict = {}


def node_table(files: GraphFiles, header: dict) -> pa.Table:
    """The node table, kept open per cache build (the header's signature changes when the cache is rebuilt)."""
    key = (str(files.nodes), repr(header["source"]))
    if key not in _tables:
        _tables.clear()  # one graph open at a time is what a viewer needs; frees the previous mapping
        _tables[key] = read_nodes(files)
    return _tables[key]


def search(table: pa.Table, query: str, limit: int = 20) -> list[dict]:
    """Nodes whose URL contains `query` (case-insensitive), exact matches first, then shortest URLs."""
    query = query.strip()
    if not query:
        return []
    urls = table.column("url")
    hits = pc.indices_nonzero(pc.match_substring(urls, query, ignore_case=True))
    if len(hits) == 0:
        return []
    found = urls.take(hits).to_pylist()
    ranked = sorted(zip(hits.to_pylist(), found), key=lambda h: (h[1].lower() != query.lower(), len(h[1]), h[0]))
    return [{"id": i, "url": u} for i, u in ranked[:limit]]


def node_details(table: pa.Table, index: int) -> dict | None:
    if not 0 <= index < table.num_rows:
        return None
    return table.slice(index, 1).to_pylist()[0]


def categories(table: pa.Table, name: str) -> list[dict]:
    """A category column's values, most common first (ties by value), with their counts; empty values left out."""
    counts = pc.value_counts(table.column(name).combine_chunks()).to_pylist()
    counts = [c for c in counts if c["values"] not in (None, "")]
    counts.sort(key=lambda c: (-c["counts"], c["values"]))
    return [{"value": c["values"], "count": c["counts"]} for c in counts]


def category_codes(table: pa.Table, name: str) -> np.ndarray:
    """Per node: index into `categories(table, name)` (capped at MAX_CATEGORIES = "other"), MISSING when empty."""
    rank = {c["value"]: min(i, MAX_CATEGORIES) for i, c in enumerate(categories(table, name))}
    encoded = pc.dictionary_encode(table.column(name).combine_chunks())
    lookup = np.array([rank.get(v, MISSING) for v in encoded.dictionary.to_pylist()] + [MISSING], np.uint32)
    return lookup[numpy_of(encoded.indices, np.int32, fill=-1)]  # -1 (no value) picks the trailing MISSING


def number_values(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float32, NaN where empty."""
    return numpy_of(table.column(name).combine_chunks(), np.float64, fill=np.nan).astype(np.float32)


def column_bytes(table: pa.Table, name: str, kind: str) -> bytes:
    values = number_values(table, name) if kind == "number" else category_codes(table, name)
    return values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()

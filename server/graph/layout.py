"""A starting layout computed once with the cache: rings by click depth from the most-linked page.

The browser's force layout refines it; on a machine without a GPU a million-edge graph may never settle, so
the first picture should already mean something: sections of the site stay together around their parent."""
from __future__ import annotations

import numpy as np

from .arrays import stable_order

SPACE = 4096.0  # cosmos' default simulation space: positions are given in its coordinates
MAX_DEPTH = 64  # deeper chains than this are rare in sites and would cost one pass over the edges each


def radial_layout(source: np.ndarray, target: np.ndarray, inbound: np.ndarray, n: int, seed: int = 7) -> np.ndarray:
    """Interleaved x,y float32 positions for `n` nodes."""
    if n == 0:
        return np.empty(0, np.float32)
    rng = np.random.default_rng(seed)
    depth = np.full(n, -1, np.int32)
    angle = rng.random(n) * 2 * np.pi
    root = int(np.argmax(inbound))
    depth[root], angle[root] = 0, 0.0
    frontier, seen = np.zeros(n, bool), np.zeros(n, bool)
    frontier[root] = seen[root] = True
    parent_of, rank = np.empty(n, source.dtype), np.empty(n, np.int64)
    d = 0
    while d < MAX_DEPTH and len(source):
        reach = frontier[source]
        reach &= ~seen[target]
        if not reach.any():
            break
        # Each child's first parent among the edges: scattered in reverse, so the first one is written last and
        # stays; a flag per node instead of np.unique's sort of every edge reached.
        parent_edges, child_edges = source[reach], target[reach]
        parent_of[child_edges[::-1]] = parent_edges[::-1]
        frontier[:] = False
        frontier[child_edges] = True
        child = np.flatnonzero(frontier)
        parent = parent_of[child]
        seen[child] = True
        # Children sorted by their parent's angle share out the next ring: each branch stays in its sector; ties
        # keep the children's ascending ids. The parents, the ring before, have an angle each: they are ordered
        # among themselves and their children by that rank, a radix sort instead of np.lexsort's (with the flags
        # above, the layout at 1M links takes 27 ms of CPU instead of 41, the same positions).
        parents = np.flatnonzero(np.bincount(parent, minlength=n))
        rank[parents[np.argsort(angle[parents], kind="stable")]] = np.arange(len(parents))
        child = child[stable_order(rank[parent])]
        d += 1
        depth[child] = d
        angle[child] = (np.arange(len(child)) + 0.5) / len(child) * 2 * np.pi
    unreached = depth < 0
    depth[unreached] = d + 1  # pages no link path reaches from the root: an outer ring
    rings = d + 1
    radius = (depth + np.where(depth > 0, rng.random(n) * 0.8, 0.0)) / (rings + 0.8)
    half = SPACE / 2
    pos = np.empty(2 * n, np.float32)
    pos[0::2] = half + np.cos(angle) * radius * half * 0.9
    pos[1::2] = half + np.sin(angle) * radius * half * 0.9
    return pos

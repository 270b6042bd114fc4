"""Every link graph on disk: `downloads/link-graph/{org}/{project}/{project}_{slug}_links.csv`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..files import inside
from .cache import GraphFiles

FOLDER = "link-graph"


@dataclass(frozen=True)
class GraphEntry:
    org: str
    project: str
    slug: str
    files: GraphFiles
    size: int
    modified: float

    @property
    def url(self) -> str:
        return viewer_url(self.org, self.project, self.slug)

    @property
    def insights(self) -> str:
        return insights_url(self.org, self.project, self.slug)

    @property
    def has_meta(self) -> bool:
        return self.files.meta.exists()


def viewer_url(org: str, project: str, slug: str) -> str:
    """The viewer's address for one graph (what the link-graph workflow links to)."""
    return "/graph/" + "/".join(quote(p, safe="") for p in (org, project, slug))


def insights_url(org: str, project: str, slug: str) -> str:
    """The insights screen of one graph: what the link-graph workflow's final card links to."""
    return viewer_url(org, project, slug) + "/insights"


def compare_url(org: str, project: str, slug_a: str, slug_b: str) -> str:
    """The comparison of two analyses of one project, `slug_a` the older."""
    return viewer_url(org, project, slug_a) + "/compare/" + quote(slug_b, safe="")


def download_url(org: str, project: str, path: Path) -> str:
    """Where the downloads route serves a file of the graph's folder."""
    return "/download/" + "/".join(quote(p, safe="") for p in (org, project, path.name))


def graph_files(downloads: Path, org: str, project: str, slug: str) -> GraphFiles:
    """The files for a graph named in a URL; raises files.UnsafePath if a part would leave the downloads folder."""
    return GraphFiles(inside(downloads, FOLDER, org, project, f"{project}_{slug}_links.csv"))


def list_graphs(downloads: Path) -> list[GraphEntry]:
    """Newest first."""
    root = Path(downloads) / FOLDER
    found = []
    for links in root.glob("*/*/*_links.csv") if root.is_dir() else ():
        org, project = links.parent.parent.name, links.parent.name
        prefix = f"{project}_"
        if not links.name.startswith(prefix) or links.name.startswith("."):
            continue
        slug = links.name[len(prefix):-len("_links.csv")]
        if not slug:
            continue
        st = links.stat()
        found.append(GraphEntry(org, project, slug, GraphFiles(links), st.st_size, st.st_mtime))
    return sorted(found, key=lambda e: (-e.modified, e.org, e.project, e.slug))

"""Export download: a Botify-style gzip CSV of 1,000,000 edges served over local HTTP, turned into the final
`source,target` file by our streaming code, against the common way in the same run (download the whole .gz,
gzip-read it all, pandas.read_csv, rename, to_csv). Each side runs in a fresh process so peak RSS is its own.
`gzip -dc file > /dev/null` is printed as the floor.
Target: ours at least 3x faster and at most a quarter of the reference's peak RSS."""
import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

from common import ROOT
from tests.support import free_port

OURS = textwrap.dedent("""
    import asyncio, json, resource, sys, time
    sys.path.insert(0, sys.argv[3])
    from pathlib import Path
    from server.botify.client import BotifyClient
    from server.botify.normalise import download_export
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async def main():
        async with BotifyClient("http://127.0.0.1:9/v1", "unused") as api:
            return await download_export(api.stream(sys.argv[1]), Path(sys.argv[2]), ["source", "target"])
    t = time.perf_counter()
    written = asyncio.run(main())
    wall = time.perf_counter() - t
    print(json.dumps({"wall": wall, "rows": written.rows, "base_kb": base,
                      "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
""")

REFERENCE = textwrap.dedent("""
    import gzip, io, json, os, resource, shutil, sys, time, urllib.request
    import pandas as pd
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    url, final, headerless = sys.argv[1], sys.argv[2], sys.argv[4] == "headerless"
    t = time.perf_counter()
    gz_path = final + ".gz"
    with urllib.request.urlopen(url) as resp, open(gz_path, "wb") as f:
        shutil.copyfileobj(resp, f)
    with gzip.open(gz_path, "rb") as f:
        data = f.read()
    df = pd.read_csv(io.BytesIO(data), header=None) if headerless else pd.read_csv(io.BytesIO(data), skiprows=1)
    df.columns = ["source", "target"]
    df.to_csv(final, index=False)
    wall = time.perf_counter() - t
    os.unlink(gz_path)
    print(json.dumps({"wall": wall, "rows": len(df), "base_kb": base,
                      "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
""")


def make_export(path: Path, edges: int, headerless: bool = False) -> None:
    """Links as Botify writes them: `sep=,` and a verbose header (unless `headerless`), then one edge per line."""
    pages = max(2, edges // 8)

    def url(page: int) -> str:  # hash-like slugs, so the file compresses about as well as a real export
        return f"https://www.example.com/c{page % 97}/item-{(page * 2654435761) & 0xFFFFFFFF:08x}"

    with gzip.open(path, "wt", compresslevel=6) as gz:
        if not headerless:
            gz.write("sep=,\nFull URL,Outlinks Internal: Destination URL\n")
        for start in range(0, edges, 100_000):
            gz.write("".join(f"{url(i % pages)},{url((i * 7 + 1) % pages)}\n"
                             for i in range(start, min(edges, start + 100_000))))


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/", timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("file server did not start")


def measure(script: str, url: str, final: Path, repeat: int, variant: str) -> dict:
    """Best wall time and highest peak RSS over `repeat` fresh processes (other work on the machine adds noise)."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", script, url, str(final), str(ROOT), variant], capture_output=True,
                             text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["wall"])
    return {**best, "peak_kb": max(r["peak_kb"] for r in runs), "walls": [r["wall"] for r in runs]}


def floor(path: Path, repeat: int) -> float:
    gzip_bin = shutil.which("gzip")
    walls = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(f"{gzip_bin} -dc {path} > /dev/null", shell=True, check=True)
        walls.append(time.perf_counter() - t)
    return min(walls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200,000 edges instead of 1,000,000")
    parser.add_argument("--edges", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the best wall time counts")
    parser.add_argument("--headerless", action="store_true",
                        help="a file without `sep=,` and header (formatter_config print_header/print_delimiter false)")
    args = parser.parse_args()
    edges = args.edges or (200_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "www").mkdir()
        export = tmp / "www" / "links.csv.gz"
        make_export(export, edges, args.headerless)
        variant = "headerless" if args.headerless else "header"
        proc, base = serve(tmp / "www")
        try:
            url = f"{base}/links.csv.gz"
            ours = measure(OURS, url, tmp / "ours.csv", args.repeat, variant)
            ref = measure(REFERENCE, url, tmp / "ref.csv", args.repeat, variant)
        finally:
            proc.terminate()
            proc.wait()
        gz_floor = floor(export, args.repeat)
        sizes = f"{export.stat().st_size / 1e6:.1f} MB gzip -> {(tmp / 'ours.csv').stat().st_size / 1e6:.1f} MB CSV"
        same = (tmp / "ours.csv").read_bytes() == (tmp / "ref.csv").read_bytes()
    assert ours["rows"] == ref["rows"] == edges, (ours, ref)
    print(f"export: {edges:,} edges ({variant}), {sizes}; outputs identical: {same}")
    print(f"floor   gzip -dc > /dev/null      {gz_floor:7.2f} s")
    for name, r in (("ours", ours), ("reference", ref)):
        print(f"{name:9} wall {r['wall']:7.2f} s   peak RSS {r['peak_kb'] / 1024:7.1f} MB "
              f"(+{(r['peak_kb'] - r['base_kb']) / 1024:.1f} MB over its start-up)   "
              f"runs: {', '.join(f'{w:.2f}' for w in r['walls'])} s")
    speed = ref["wall"] / ours["wall"]
    memory = ours["peak_kb"] / ref["peak_kb"]
    print(f"ratio   speed-up {speed:.1f}x (target >= 3x)   peak RSS {memory:.2f} of reference (target <= 0.25)"
          f"   ours / floor {ours['wall'] / gz_floor:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Small helpers the benchmarks share: timing summaries and the repo on sys.path."""
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def summary(samples_s: list[float]) -> dict:
    ordered = sorted(samples_s)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"median_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000, "n": len(ordered)}


def fmt(s: dict) -> str:
    return f"median {s['median_ms']:7.2f} ms   p99 {s['p99_ms']:7.2f} ms   (n={s['n']})"

"""Bench: the matcher's greedy against solve() on synthetic district, region and state instances.

Run: python bench/match_domain.py [--sizes district,region,state] [--seeds 0,1,2]

Each (size, seed, method) runs in a fresh child process so that peak memory (ru_maxrss) belongs to
that run alone. Prints coverage %, wall seconds, peak RSS and schools per provider side by side,
then the targets: district within 10 s and >= 5 points above greedy where greedy leaves >= 5%
unserved; state within 60 s and 2 GB, never below greedy.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = {
    "district": (300, 40, 10.0),
    "region": (1000, 130, 30.0),
    "state": (3000, 400, 55.0),
}


def _run(size: str, seed: int, method: str, out: Any) -> None:
    from bot.domain.matching import greedy, solve, validate
    from bot.domain.matching.synthetic import synthetic_instance

    n_needs, n_providers, limit = SIZES[size]
    inp = synthetic_instance(n_needs, n_providers, seed)
    t0 = time.perf_counter()
    result = greedy(inp) if method == "greedy" else solve(inp, time_limit_s=limit, seed=seed)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send(
        {
            "coverage": 100 * result.objective["coverage"],
            "wall": wall,
            "rss_mb": rss_mb,
            "schools_per_provider": result.objective["schools_per_provider"],
            "group_sessions": result.objective["group_sessions"],
            "method": result.method,
            "violations": len(validate(inp, result)),
        }
    )


def measure(size: str, seed: int, method: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_run, args=(size, seed, method, child))
    proc.start()
    got: dict[str, Any] = parent.recv()
    proc.join()
    return got


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="district,region,state")
    ap.add_argument("--seeds", default="0,1,2")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    head = (
        f"{'size':8} {'seed':>4} | {'greedy cov%':>11} {'s':>6} {'MB':>6} {'sch/prov':>8} | "
        f"{'solve cov%':>10} {'s':>6} {'MB':>6} {'sch/prov':>8} {'method':>10} | {'gain':>5}"
    )
    print(head)
    print("-" * len(head))
    ok = True
    for size in args.sizes.split(","):
        limit = SIZES[size][2]
        for seed in seeds:
            g = measure(size, seed, "greedy")
            s = measure(size, seed, "solve")
            gain = s["coverage"] - g["coverage"]
            print(
                f"{size:8} {seed:>4} | {g['coverage']:11.1f} {g['wall']:6.2f} {g['rss_mb']:6.0f} "
                f"{g['schools_per_provider']:8.2f} | {s['coverage']:10.1f} {s['wall']:6.2f} "
                f"{s['rss_mb']:6.0f} {s['schools_per_provider']:8.2f} {s['method']:>10} | "
                f"{gain:+5.1f}",
                flush=True,
            )
            notes = []
            if g["violations"] or s["violations"]:
                notes.append("VALIDATION FAILED")
            if s["coverage"] < g["coverage"]:
                notes.append("below greedy")
            if s["wall"] > limit:
                notes.append(f"over {limit:.0f} s")
            if size == "district" and 100 - g["coverage"] >= 5 and gain < 5:
                notes.append("gain < 5 points")
            if size == "state" and (s["wall"] > 60 or s["rss_mb"] > 2048):
                notes.append("state target missed")
            if notes:
                ok = False
                print(f"{'':13} ^ {', '.join(notes)}")
    print("targets met" if ok else "targets NOT all met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

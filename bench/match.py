"""Benchmark: the matcher on synthetic rosters, through the same path as `/match`.

For each size a synthetic roster is generated (demo/generate.py), imported into a fresh SQLite
database, and turned into the matcher's input for the coming school week by the `/match`
service. Greedy (the baseline) and the solver run on the same input in the same process; each
size runs in its own subprocess so its peak memory is its own. The validator re-checks both.

    python bench/match.py [--sizes district region state] [--seed 7]

Targets (2 cores): district within 10 s, at least 5 points above greedy where greedy leaves
>= 5% unserved; state within 60 s and 2 GB, never below greedy.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = {  # name: (students, providers, solver time limit in seconds)
    "district": (300, 40, 10.0),
    "region": (1000, 130, 30.0),
    "state": (3000, 400, 55.0),
}
TODAY = date(2026, 11, 30)


def coverage(inp, result) -> float:  # type: ignore[no-untyped-def]
    served = {(sid, s.service) for s in result.sessions for sid in s.student_ids}
    return 100.0 * len(served) / max(1, len(inp.needs))


def schools_per_provider(result) -> float:  # type: ignore[no-untyped-def]
    schools: dict[str, set[str]] = {}
    for s in result.sessions:
        schools.setdefault(s.provider_id, set()).add(s.school_id)
    return sum(len(v) for v in schools.values()) / max(1, len(schools))


def one(name: str, seed: int) -> dict[str, object]:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.clock import FixedClock
    from bot.deps import Deps
    from bot.domain import matching as mt
    from bot.services import matching as svc
    from bot.settings import load_settings
    from bot.slack_gateway import SlackGateway, make_web_client
    from demo.generate import write_synthetic_roster
    from storage.db import make_engine, make_session_factory, migrate
    from storage.models import District
    from storage.roster import import_roster

    students, providers, limit = SIZES[name]
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-match-{name}-"))
    write_synthetic_roster(
        tmp / "roster", students=students, providers=providers, districts=1, seed=seed, today=TODAY
    )
    url = f"sqlite:///{tmp}/bench.db"
    migrate(url)
    engine = make_engine(url)
    sf = make_session_factory(engine)
    report = import_roster(tmp / "roster", sf)
    assert report.ok, report.problems[:5]
    settings = load_settings({"DATABASE_URL": url})
    deps = Deps(
        settings,
        engine,
        sf,
        FixedClock(datetime(2026, 11, 30, 17, tzinfo=UTC)),
        SlackGateway(make_web_client(None, settings.slack_api_url)),
    )
    with sf() as s:
        district = s.scalars(select(District)).one()  # one district per size
        t0 = time.perf_counter()
        inp, _ = svc.build_input(s, deps, district, TODAY)
        build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = mt.greedy(inp)
    greedy_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = mt.solve(inp, time_limit_s=limit)
    solve_s = time.perf_counter() - t0
    return {
        "size": name,
        "students": students,
        "providers": providers,
        "needs": len(inp.needs),
        "build_s": build_s,
        "greedy_cov": coverage(inp, g),
        "greedy_s": greedy_s,
        "greedy_spp": schools_per_provider(g),
        "solve_cov": coverage(inp, r),
        "solve_s": solve_s,
        "solve_spp": schools_per_provider(r),
        "method": r.method,
        "limit_s": limit,
        "violations": len(mt.validate(inp, r)) + len(mt.validate(inp, g)),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--one", choices=list(SIZES), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed)))
        return 0
    print(
        f"{'size':9s} {'needs':>6s} | {'greedy':>7s} {'time':>6s} {'sch/p':>5s} | "
        f"{'solver':>7s} {'time':>6s} {'sch/p':>5s} {'method':>11s} | "
        f"{'gain':>6s} {'peak MB':>8s} viol"
    )
    for name in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"{name}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        gain = r["solve_cov"] - r["greedy_cov"]
        print(
            f"{name:9s} {r['needs']:6d} | {r['greedy_cov']:6.1f}% {r['greedy_s']:5.1f}s "
            f"{r['greedy_spp']:5.2f} | {r['solve_cov']:6.1f}% {r['solve_s']:5.1f}s "
            f"{r['solve_spp']:5.2f} {r['method']:>11s} | {gain:+5.1f} {r['peak_mb']:8.0f} "
            f"{r['violations']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Headless replay of a full drill day: 3,000 arriving volunteers and 800 needs.

The scenario is drills/heavy-rain-peak-day.yaml (08:30-16:00, a main centre and a satellite)
scaled up: every volunteer wave's rate by one factor so that the schedule generates
`--arrivals` arrivals (each a volunteer or a group's representative, as in the reception
queue), the need batches' counts so that they sum to `--needs`, and the pre-registered pool,
the sites' daily quotas, the equipment stock and the reception lanes (6 per site in the
headless policy) by the same factor as the arrivals, so that the bigger centre is as well
supplied and staffed as the shipped one. The file is written into a temporary
folder; the counts the schedule actually generates are printed before the run.

The run is `flask --app dvc drill run FILE --headless` without the CLI: a fresh app on a new
SQLite file in the temporary folder (or `--database URL`), every desk scripted
(dvc/drills/headless.py), one step a minute of scenario time. It prints the wall and CPU time
of the run (set-up included, app start-up and schema excluded) and the headline metrics.
Goal: under 60 s. `--profile FILE` writes a cProfile of the run (CPU time) to FILE and prints
the top functions.

Usage: .venv/bin/python bench/replay.py [--arrivals 3000] [--needs 800] [--seed N]
       [--step 1] [--lanes N] [--database URL] [--profile out.prof]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SOURCE = ROOT / "drills" / "heavy-rain-peak-day.yaml"
GOAL_SECONDS = 60


def scaled(doc: dict, wave_factor: float, stock_factor: float, needs: int) -> dict:
    """Return the scenario with waves, pool, quotas and stock scaled and `needs` needs."""
    doc = yaml.safe_load(yaml.safe_dump(doc, allow_unicode=True))  # a deep copy
    doc["id"] = f"{doc['id']}-bench"
    initial = doc["initial"]
    initial["volunteers"]["pre_registered"] = round(
        initial["volunteers"]["pre_registered"] * stock_factor)
    for site in initial["sites"]:
        if site.get("quota"):
            site["quota"] = round(site["quota"] * stock_factor)
    for item in initial["equipment"]:
        item["stock"] = {k: round(v * stock_factor) for k, v in item["stock"].items()}
    batches = [i["payload"] for i in doc["injects"]
               if (i.get("payload") or {}).get("kind") == "need_requests"]
    total = sum(b["count"] for b in batches)
    left = needs
    for b in batches[:-1]:
        b["count"] = round(b["count"] * needs / total)
        left -= b["count"]
    batches[-1]["count"] = left
    for inject in doc["injects"]:
        payload = inject.get("payload") or {}
        if payload.get("kind") == "volunteer_wave":
            payload["rate"] = round(payload["rate"] * wave_factor, 3)
    return doc


def counts(text: str, seed: int | None) -> dict:
    """Return what the schedule generates: arrivals (and people), needs, pre-registered."""
    from dvc.drills import replay
    from dvc.drills.operations import DRILLS_DIR
    from dvc.drills.scenario import loads
    plan = replay.schedule(loads(text, base=DRILLS_DIR), seed)
    arrivals = [d for d in plan if d.kind == "volunteer_arrival"]
    return {"arrivals": len(arrivals),
            "people": sum(d.item.person.headcount for d in arrivals),
            "needs": sum(1 for d in plan if d.kind == "need_request"),
            "pre_registered": len(plan.pre_registered)}


def make_scenario(folder: Path, arrivals: int, needs: int,
                  seed: int | None) -> tuple[Path, dict, float]:
    """Write the scaled scenario (the wave factor corrected from the count generated); return
    it, what it generates and the scale (arrivals over the shipped scenario's)."""
    doc = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    base = counts(SOURCE.read_text(encoding="utf-8"), seed)
    factor = arrivals / base["arrivals"]
    path = folder / "heavy-rain-bench.yaml"
    for _ in range(3):
        text = yaml.safe_dump(scaled(doc, factor, arrivals / base["arrivals"], needs),
                              allow_unicode=True, sort_keys=False)
        got = counts(text, seed)
        if abs(got["arrivals"] - arrivals) <= arrivals * 0.01:
            break
        factor *= arrivals / got["arrivals"]
    path.write_text(text, encoding="utf-8")
    return path, got, arrivals / base["arrivals"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, default=3000)
    parser.add_argument("--needs", type=int, default=800)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--step", type=float, default=1.0, help="minutes per step")
    parser.add_argument("--lanes", type=int, default=None, help="reception lanes per site "
                        "(default: the headless 6, scaled like the waves)")
    parser.add_argument("--database", default=None, help="a database URL (default: SQLite "
                        "in a temporary folder)")
    parser.add_argument("--profile", default=None, help="write a cProfile (CPU time) here")
    args = parser.parse_args()

    from dvc import create_app
    from dvc.drills import headless
    from dvc.drills.metrics import report_lines

    with tempfile.TemporaryDirectory(prefix="dvc-bench-replay-") as tmp:
        # This app only gives the scenario loader its settings: its database is never opened.
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/unused.sqlite3",
                          "SECRET_KEY": "bench"})
        with app.app_context():
            path, generated, factor = make_scenario(Path(tmp), args.arrivals, args.needs,
                                                    args.seed)
            lanes = args.lanes or max(1, round(headless.Policy.lanes * factor))
            print(f"scenario: {path.name} (from {SOURCE.name}), seed "
                  f"{args.seed if args.seed is not None else 'of the file'}")
            print(f"the schedule generates: {generated['arrivals']} arrivals "
                  f"({generated['people']} people with the groups), {generated['needs']} needs, "
                  f"{generated['pre_registered']} pre-registered")
            text = path.read_text(encoding="utf-8")
            policy = headless.Policy(step=timedelta(minutes=args.step), lanes=lanes)
            with headless.throwaway_app(args.database, SECRET_KEY="bench"):
                profiler = None
                if args.profile:
                    import cProfile
                    profiler = cProfile.Profile(time.process_time)
                wall, cpu = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                result = headless.run_headless(text, seed=args.seed, policy=policy)
                if profiler:
                    profiler.disable()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    verdict = "within" if wall < GOAL_SECONDS else "OVER"
    print(f"headless replay: {wall:.1f} s wall, {cpu:.1f} s CPU ({verdict} the {GOAL_SECONDS} s "
          f"goal); {result.counts['events']} events, step {args.step:g} min, "
          f"{lanes} lanes per site")
    print("desks: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
    for line in report_lines(result.metrics, result.ratings):
        print("  " + line)
    if profiler:
        import pstats
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())

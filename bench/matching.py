#!/usr/bin/env python3
"""The team-matching engine against the exact optimum, on seeded random centres.

For each size (volunteers x needs; 200x50, 1000x300 and 3000x800 by default, each with its own
fixed seed) this script
  1. builds the instance with dvc.matching.samples.random_instance (two sites by default);
  2. runs the engine's default strategy --repeat times (best time kept) and checks its plan
     with model.violations (a broken plan is flagged "NO" and the exit status is 1);
  3. runs the "first_come" strategy (whiteboard-style greedy fill, the baseline) the same way;
  4. solves the same model exactly with dvc.matching.reference.solve_exact (a MILP on HiGHS),
     within --time-limit seconds: its objective, the solver's bound (no plan can score more)
     and the gap between them; "optimal" means proven within HiGHS's 1e-6 relative gap;
  5. prints one table: engine / exact and engine / bound (the latter is a guaranteed lower
     figure for how close the engine is when the solver ran out of time), and the same for
     first_come.

Everything is pure Python in this process: no server, no database.

Usage: .venv/bin/python bench/matching.py [--sizes 200x50,1000x300,3000x800] [--time-limit 60]
       [--repeat 3] [--sites 2] [--seed N] [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dvc.matching.model import Instance, Plan, violations  # noqa: E402
from dvc.matching.reference import solve_exact  # noqa: E402
from dvc.matching.samples import random_instance  # noqa: E402

SIZES = "200x50,1000x300,3000x800"
QUICK_SIZES = "200x50,1000x300"
SEEDS = {(200, 50): 1, (1000, 300): 2, (3000, 800): 3}   # any other size: --seed


def parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        volunteers, _, needs = part.strip().partition("x")
        out.append((int(volunteers), int(needs)))
    return out


def timed(strategy: str, instance: Instance, repeat: int) -> tuple[Plan, float]:
    from dvc.matching.engine import suggest
    best, plan = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        plan = suggest(instance, strategy=strategy)
        best = min(best, time.perf_counter() - start)
    return plan, best


def ratio(a: float, b: float) -> str:
    return f"{a / b:.5f}" if b > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=None,
                        help=f"comma-separated VOLUNTEERSxNEEDS (default {SIZES})")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds for the exact solver per instance (default 60)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="engine runs per instance, best time kept (default 3)")
    parser.add_argument("--sites", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None,
                        help="one seed for every size (default: a fixed seed per size)")
    parser.add_argument("--quick", action="store_true",
                        help=f"sizes {QUICK_SIZES}, 10 s time limit, 1 engine run")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes or (QUICK_SIZES if args.quick else SIZES))
    time_limit = args.time_limit if args.time_limit is not None else 10.0 if args.quick else 60.0
    repeat = args.repeat if args.repeat is not None else 1 if args.quick else 3

    head = (f"{'size':>9} {'seed':>4} | {'engine s':>8} {'engine':>10} {'ok':>3} | "
            f"{'exact':>10} {'bound':>10} {'gap':>8} {'status':>10} {'exact s':>7} | "
            f"{'eng/exact':>9} {'eng/bound':>9} | {'first_come':>10} {'ok':>3} {'fc/exact':>8}"
            f" | {'served e/x/fc':>13}")
    print(f"matching benchmark: {args.sites} sites, exact time limit {time_limit:g} s, "
          f"engine best of {repeat}")
    print(head)
    print("-" * len(head))
    broken = 0
    for volunteers, needs in sizes:
        seed = args.seed if args.seed is not None else SEEDS.get((volunteers, needs), 0)
        instance = random_instance(volunteers, needs, seed=seed, sites=args.sites)
        plan, seconds = timed("default", instance, repeat)
        greedy, _ = timed("first_come", instance, 1)
        ok = not violations(instance, plan)
        ok_fc = not violations(instance, greedy)
        broken += (not ok) + (not ok_fc)
        exact = solve_exact(instance, time_limit=time_limit)
        served = (f"{len(plan.teams)}/{len(exact.plan.teams)}/{len(greedy.teams)}")
        print(f"{volunteers:>4}x{needs:<4} {seed:>4} | {seconds:>8.3f} {plan.objective:>10.0f} "
              f"{'yes' if ok else 'NO':>3} | {exact.objective:>10.0f} {exact.bound:>10.0f} "
              f"{exact.gap:>8.2e} {exact.status:>10} {exact.seconds:>7.1f} | "
              f"{ratio(plan.objective, exact.objective):>9} "
              f"{ratio(plan.objective, exact.bound):>9} | {greedy.objective:>10.0f} "
              f"{'yes' if ok_fc else 'NO':>3} {ratio(greedy.objective, exact.objective):>8} | "
              f"{served:>13}", flush=True)
    if broken:
        print(f"{broken} plan(s) break the model's rules (ok = NO)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

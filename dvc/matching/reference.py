"""The exact reference for the matching model: a MILP solved by HiGHS (scipy.optimize.milp).

It solves the same model as the engine (dvc.matching.model): the same hard rules (`violations`)
and the same score (`objective`), so "engine / exact" compares like with like. It is meant for
benchmarks and tests, not for the coordinator's screen: it can take a minute on a big morning.

Formulation (per site: sites share no volunteer and no need, so each is its own MILP):
  x[u,j] in {0,1}  unit u (a group, or one person; model.units) forms part of the team of need j;
                   only if every member of u is at j's site and u's headcount <= people_max(j)
  y[j]   in {0,1}  need j is served
  e[j]   in {0,1}  j's team has an experienced member
  sum_j x[u,j] <= 1                                    a unit is in at most one team
  max(people_min,1)*y[j] <= sum_u h_u x[u,j] <= people_max*y[j]
  sum_{u has s} x[u,j] >= y[j]   for each skill s that j requires (vehicle likewise)
  e[j] <= sum_{u experienced} x[u,j],  e[j] <= y[j]
  max  sum_j served_value(j) y[j] + EXPERIENCE_BONUS e[j] + PERSON_PLACED sum_u h_u x[u,j]

Three formulations of that one problem, chosen by `formulation`:
  "units"    exactly the above: one binary per unit and need (kept to cross-check the others);
  "classes"  units the model cannot tell apart (same headcount, skills, vehicle, "experienced")
             are one class c of n_c units; x[c,j] is an integer 0..n_c, sum_j x[c,j] <= n_c;
  "pooled"   (the default) as "classes", but x[c,j] only where c brings a skill or the vehicle
             j requires; every other unit j takes is a plain pair of hands counted by
             g[t,j], t = (headcount, experienced), and per type t the plain hands plus the
             type's coverers are at most its units. e[j] counts experienced coverers and
             experienced plain hands.
All three have the same integer optimum: any solution of one splits into unit assignments of
the same score and back (a unit used as plain hands where it could cover only lowers the
solver's count of what is covered, never the model's score). Aggregating removes the symmetry
of 3,000 mostly identical volunteers that makes branch and bound slow, and pooling removes
most of the variables (95,000 to about 20,000 on 3,000 x 800).

The coefficients come from the model's own helpers (served_value, EXPERIENCE_BONUS,
PERSON_PLACED); every team of the answer is checked against model.team_score, and the plan's
objective is recomputed by model.objective, so a change to the score that the MILP does not
follow raises instead of giving a wrong reference.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from dvc.matching.model import (EXPERIENCE_BONUS, PERSON_PLACED, Instance, Need, Plan, Team,
                                Volunteer, choose_leader, objective, served_value, team_score,
                                units, violations)

STRATEGY = "exact"
REASON = "exact MILP optimum"
REASON_LIMIT = "best MILP plan found in the time limit"
_STATUS = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded", 4: "error"}
_TOL = 1e-6
FORMULATIONS = ("pooled", "classes", "units")


@dataclass(frozen=True)
class ExactResult:
    plan: Plan
    objective: float          # model.objective(instance, plan.teams)
    bound: float              # the solver's dual bound: no plan scores more than this
    gap: float                # (bound - objective) / bound; 0.0 when bound is 0
    status: str               # "optimal", "time_limit", or the worst of another kind
    seconds: float            # wall time, building included
    meta: dict = field(default_factory=dict, compare=False)


@dataclass
class _Class:
    """Units the model cannot tell apart: placed by count (one unit when not aggregating)."""
    units: list[tuple[Volunteer, ...]]
    headcount: int
    attrs: frozenset[str]     # skills, plus "\0vehicle" when a member holds one
    experienced: bool


_VEHICLE = "\0vehicle"


def _linear_score(need: Need, members: list[Volunteer]) -> float:
    """The MILP's score of a feasible team; must equal model.team_score."""
    people = sum(v.headcount for v in members)
    bonus = EXPERIENCE_BONUS if any(v.experienced for v in members) else 0.0
    return served_value(need) + bonus + PERSON_PLACED * people


def _classes(site_units: list[tuple[Volunteer, ...]], aggregate: bool) -> list[_Class]:
    """Bundle a site's units into classes: identical units together, or one class each."""
    out: dict = {}
    for unit in sorted(site_units, key=lambda u: min(v.id for v in u)):
        attrs = frozenset().union(*(v.skills for v in unit))
        if any(v.vehicle for v in unit):
            attrs |= {_VEHICLE}
        headcount = sum(v.headcount for v in unit)
        experienced = any(v.experienced for v in unit)
        key = (headcount, attrs, experienced) if aggregate else unit
        if key not in out:
            out[key] = _Class([], headcount, attrs, experienced)
        out[key].units.append(unit)
    return list(out.values())


def _req(need: Need) -> frozenset[str]:
    return need.skills | ({_VEHICLE} if need.vehicle else frozenset())


def _solve_site(needs: list[Need], classes: list[_Class], time_limit: float,
                mip_rel_gap: float, pooled: bool) -> dict:
    """Solve one site's MILP; return its teams as (need, members) and the solver's figures.

    Not pooled: x[c,j] for every class and need it fits. Pooled: x[c,j] only where class c
    brings something need j requires ("coverers"), and g[t,j] counts the other units of type
    t = (headcount, experienced) that j takes as plain hands, drawn from a pool per type.
    """
    if not needs or not classes:
        return {"teams": [], "value": 0.0, "bound": 0.0, "status": "optimal", "vars": 0}
    head = np.array([c.headcount for c in classes])
    count = np.array([len(c.units) for c in classes])
    expd = np.array([c.experienced for c in classes])
    pmin = np.array([max(n.people_min, 1) for n in needs])
    pmax = np.array([n.people_max for n in needs])
    value = np.array([served_value(n) for n in needs])
    reqs = [_req(n) for n in needs]
    n_c, n_j = len(classes), len(needs)

    fits = head[:, None] <= pmax[None, :]
    if pooled:
        types = sorted({(c.headcount, c.experienced) for c in classes})
        type_of = np.array([types.index((c.headcount, c.experienced)) for c in classes])
        t_head = np.array([t[0] for t in types])
        t_exp = np.array([t[1] for t in types])
        t_count = np.bincount(type_of, weights=count, minlength=len(types)).astype(int)
        covers = np.array([[bool(c.attrs & r) for r in reqs] for c in classes])
        ci, nj = np.nonzero(fits & covers)
        gt, gj = np.nonzero(t_head[:, None] <= pmax[None, :])
    else:
        ci, nj = np.nonzero(fits)
        gt = gj = np.zeros(0, dtype=int)
        types, type_of, t_head, t_exp, t_count = [], None, np.zeros(0, int), [], []
    n_x, n_g = len(ci), len(gt)
    kx, kg = np.arange(n_x), n_x + np.arange(n_g)
    yv = n_x + n_g + np.arange(n_j)
    ev = n_x + n_g + n_j + np.arange(n_j)
    n_var = n_x + n_g + 2 * n_j

    rows, cols, data, lo, hi = [], [], [], [], []
    n_row = 0

    def add(r, c, d):
        rows.append(np.asarray(r))
        cols.append(np.asarray(c))
        data.append(np.broadcast_to(np.asarray(d, dtype=float), np.shape(r)))

    # a class places at most its number of units
    add(ci, kx, 1.0)
    lo.append(np.full(n_c, -np.inf))
    hi.append(count.astype(float))
    n_row += n_c
    if pooled:      # a type's plain hands and its coverers together at most its units
        add(n_row + type_of[ci], kx, 1.0)
        add(n_row + gt, kg, 1.0)
        lo.append(np.full(len(types), -np.inf))
        hi.append(t_count.astype(float))
        n_row += len(types)
    # headcount between people_min and people_max when served, zero when not
    for bound_col, lo_row, hi_row in ((pmax, -np.inf, 0.0), (pmin, 0.0, np.inf)):
        add(n_row + nj, kx, head[ci])
        add(n_row + gj, kg, t_head[gt])
        add(n_row + np.arange(n_j), yv, -bound_col)
        lo.append(np.full(n_j, lo_row))
        hi.append(np.full(n_j, hi_row))
        n_row += n_j
    # every required skill, and the vehicle, covered by some member when served
    for attr in sorted(set().union(*reqs)):
        need_rows = np.array([attr in r for r in reqs])
        row_of = np.full(n_j, -1)
        row_of[need_rows] = n_row + np.arange(need_rows.sum())
        has = np.array([attr in c.attrs for c in classes])
        k = kx[has[ci] & need_rows[nj]]
        add(row_of[nj[k]], k, 1.0)
        js = np.nonzero(need_rows)[0]
        add(row_of[js], yv[js], -1.0)
        lo.append(np.zeros(len(js)))
        hi.append(np.full(len(js), np.inf))
        n_row += len(js)
    # e[j] <= the experienced units in j's team, e[j] <= y[j]
    k = kx[expd[ci]]
    add(n_row + nj[k], k, -1.0)
    if pooled:
        k = np.nonzero(t_exp[gt])[0]
        add(n_row + gj[k], kg[k], -1.0)
    add(n_row + np.arange(n_j), ev, 1.0)
    add(n_row + n_j + np.arange(n_j), ev, 1.0)
    add(n_row + n_j + np.arange(n_j), yv, -1.0)
    lo.append(np.full(2 * n_j, -np.inf))
    hi.append(np.zeros(2 * n_j))
    n_row += 2 * n_j

    a = coo_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(n_row, n_var)).tocsr()
    gain = np.concatenate([PERSON_PLACED * head[ci], PERSON_PLACED * t_head[gt], value,
                           np.full(n_j, EXPERIENCE_BONUS)])
    upper = np.concatenate([np.minimum(count[ci], pmax[nj] // head[ci]),
                            np.minimum(t_count[gt], pmax[gj] // t_head[gt]) if n_g else [],
                            np.ones(2 * n_j)])
    res = milp(-gain, integrality=np.ones(n_var), bounds=Bounds(np.zeros(n_var), upper),
               constraints=LinearConstraint(a, np.concatenate(lo), np.concatenate(hi)),
               options={"time_limit": max(time_limit, 0.05), "mip_rel_gap": mip_rel_gap,
                        "disp": False})
    status = _STATUS.get(res.status, "error")
    bound = -res.mip_dual_bound if res.mip_dual_bound is not None else np.inf
    # Stopped before the root LP, HiGHS has no bound: every need fully staffed is one.
    bound = min(bound, float(np.sum(value + EXPERIENCE_BONUS + PERSON_PLACED * pmax)))
    if res.x is None:
        return {"teams": [], "value": 0.0, "bound": float(bound), "status": status,
                "vars": n_var}
    x = np.rint(res.x).astype(int)
    # Split each class's count into its units, lowest ids first, needs in order; then hand
    # out each type's plain hands from what its classes have left, fewest skills first.
    used = np.zeros(n_c, dtype=int)
    members: dict[int, list[Volunteer]] = {}
    for k in np.nonzero(x[:n_x] > 0)[0]:
        c = ci[k]
        for unit in classes[c].units[used[c]:used[c] + x[k]]:
            members.setdefault(int(nj[k]), []).extend(unit)
        used[c] += x[k]
    left = {t: [u for c in sorted(np.nonzero(type_of == t)[0],
                                  key=lambda c: (len(classes[c].attrs), c))
                for u in classes[c].units[used[c]:]] for t in range(len(types))}
    for k in np.nonzero(x[n_x:n_x + n_g] > 0)[0]:
        t = gt[k]
        take, left[t] = left[t][:x[n_x + k]], left[t][x[n_x + k]:]
        if len(take) < x[n_x + k]:
            raise RuntimeError("MILP answer uses more units of a kind than there are")
        for unit in take:
            members.setdefault(int(gj[k]), []).extend(unit)
    served = [j for j in range(n_j) if x[n_x + n_g + j] == 1]
    if sorted(members) != served:
        raise RuntimeError("MILP answer has members on an unserved need or an empty team")
    return {"teams": [(needs[j], members[j]) for j in served], "value": float(-res.fun),
            "bound": float(bound), "status": status, "vars": n_var}


def solve_exact(instance: Instance, time_limit: float = 60.0, mip_rel_gap: float = 1e-6,
                formulation: str = "pooled") -> ExactResult:
    """Return the best plan (or, on a time limit, the best found and the solver's bound).

    `time_limit` (seconds) is shared by the sites, in proportion to their size; `mip_rel_gap`
    is HiGHS's relative gap at which a site counts as solved. `formulation` is "pooled",
    "classes" or "units" (see the module's docstring): the same optimum, solved faster or
    slower.
    """
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}")
    start = time.perf_counter()
    needs_by_site: dict[int, list[Need]] = {}
    for n in sorted(instance.needs, key=lambda n: n.id):
        needs_by_site.setdefault(n.site_id, []).append(n)
    units_by_site: dict[int, list] = {}
    for unit in units(instance.volunteers):
        sites = {v.site_id for v in unit}
        if len(sites) == 1:                 # a group spread over sites can never be placed
            units_by_site.setdefault(sites.pop(), []).append(unit)
    work = []
    for site, needs in needs_by_site.items():
        classes = _classes(units_by_site.get(site, []), formulation != "units")
        work.append((site, needs, classes,
                     sum(1 for c in classes for n in needs if c.headcount <= n.people_max)))
    total_size = sum(w[3] for w in work) or 1
    left_size = total_size

    teams: list[Team] = []
    milp_value = bound = 0.0
    statuses, per_site = [], {}
    for site, needs, classes, size in sorted(work, key=lambda w: w[0]):
        remaining = time_limit - (time.perf_counter() - start)
        share = remaining * size / left_size if left_size else remaining
        left_size -= size
        got = _solve_site(needs, classes, share, mip_rel_gap, formulation == "pooled")
        statuses.append(got["status"])
        per_site[site] = {k: got[k] for k in ("status", "value", "bound", "vars")}
        milp_value += got["value"] + 0.0     # not -0.0
        bound += got["bound"]
        reason = REASON if got["status"] == "optimal" else REASON_LIMIT
        for need, members in got["teams"]:
            if abs(team_score(need, members) - _linear_score(need, members)) > _TOL:
                raise RuntimeError("model.team_score no longer matches the MILP's objective; "
                                   "update dvc/matching/reference.py")
            teams.append(Team(need_id=need.id,
                              member_ids=tuple(sorted(v.id for v in members)),
                              leader_id=choose_leader(members).id, reason=reason))

    teams.sort(key=lambda t: t.need_id)
    placed = {i for t in teams for i in t.member_ids}
    served = {t.need_id for t in teams}
    value = objective(instance, teams)
    status = next((s for s in ("error", "unbounded", "infeasible", "time_limit")
                   if s in statuses), "optimal")
    plan = Plan(teams=tuple(teams),
                unassigned_volunteer_ids=tuple(sorted(v.id for v in instance.volunteers
                                                      if v.id not in placed)),
                unserved_need_ids=tuple(sorted(n.id for n in instance.needs
                                               if n.id not in served)),
                objective=value, strategy=STRATEGY,
                meta={"status": status, "bound": bound, "sites": per_site})
    problems = violations(instance, plan)
    if problems:
        raise RuntimeError(f"MILP plan breaks the model's rules: {problems[:5]}")
    # model.objective may exceed the solver's value on a time limit (an e[j] left at 0), never
    # fall short of it; at the optimum they agree.
    scale = max(1.0, abs(value))
    if value < milp_value - _TOL * scale or (status == "optimal"
                                              and abs(value - milp_value) > 1e-6 * scale):
        raise RuntimeError(f"model.objective {value} disagrees with the MILP's {milp_value}")
    bound = max(bound, value)
    gap = (bound - value) / bound if bound > 0 else 0.0
    return ExactResult(plan=plan, objective=value, bound=bound, gap=max(gap, 0.0),
                       status=status, seconds=time.perf_counter() - start,
                       meta={"milp_value": milp_value, "sites": per_site})

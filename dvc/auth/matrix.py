"""Who may use what: the one table the access check reads (deny by default).

Every endpoint (a page, an API call, a file) has one entry here: PUBLIC (anyone, signed in or
not) or the roles that may use it. admin, the head of the centre (センター長), may use every
endpoint in the table; an endpoint that is not in the table is refused to everyone, admin too,
so a new page stays closed until someone decides here who may open it. On top of this, a
council's staff tied to operations reach only their own operations' records (access.py).

tests/integration/test_role_matrix.py calls every route as every role and as an anonymous
visitor against this table. `python -m dvc.auth.matrix` prints it as a role grid.
"""
from __future__ import annotations

from dvc.auth.models import ROLES

PUBLIC = frozenset({"*"})


def roles(*names: str) -> frozenset[str]:
    """Return a set of roles, refusing a misspelt one (a typo would silently deny)."""
    unknown = set(names) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return frozenset(names)


# The desks of a centre. admin is left out of each: it is in every entry.
STAFF = roles(*ROLES)                              # every signed-in account
ADMIN = roles()                                    # the head of the centre alone
COORDINATOR = roles("coordinator")                 # マッチング: forms and dispatches teams
RECEPTION = roles("coordinator", "reception")      # 受付: volunteers' check-in, reports back
# Survivors' personal data (addresses, phones, 要配慮個人情報): reception never sees it.
NEEDS = roles("coordinator", "needs_intake")       # ニーズ受付
EQUIPMENT = roles("coordinator", "equipment")      # 資機材: lending and returns
STOCK = roles("equipment")                         # 資機材: what the centre owns
# viewer: the prefectural council and others who watch the centre; they change nothing.
WATCHERS = roles("coordinator", "viewer")
PLACES = roles("coordinator", "needs_intake", "viewer")   # districts and shelters
DASHBOARD = roles("coordinator", "reception", "viewer")   # anonymous counts only
PREFECTURE = roles("viewer")
TRAINER = roles("trainer")                         # 訓練の統制: runs drills, sees their notes
PLAYERS = roles("coordinator", "reception", "needs_intake", "equipment", "trainer")

ACCESS: dict[str, frozenset[str]] = {
    # --- files and documents anyone may fetch ---------------------------------------------
    "static": PUBLIC,
    "maps.vendor": PUBLIC,                        # Leaflet from its Python package
    "maps.tile": PUBLIC,                          # basemap tiles from the local archive
    "api-docs.openapi_json": PUBLIC,
    "deploy.ca_page": PUBLIC,                     # tablets trust the laptop's certificate
    "deploy.ca_pem": PUBLIC,
    "deploy.ca_der": PUBLIC,

    # --- sign-in ----------------------------------------------------------------------------
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    # First run only (404 afterwards), with the one-time link the server prints.
    "auth.setup": PUBLIC,
    "auth.account": STAFF,                        # one's own account
    "auth.sign_out_everywhere": STAFF,            # a tablet was lost
    "auth.users": ADMIN,                          # staff accounts: unlock, sign out
    "auth.user_sign_out_everywhere": ADMIN,
    "auth.user_unlock": ADMIN,

    # --- operations and their sites ----------------------------------------------------------
    "operations.index": STAFF,
    "operations.detail": STAFF,
    "operations_api.list_operations": STAFF,
    "operations.create": ADMIN,
    "operations_api.post_operation": ADMIN,
    "operations.update_notice": ADMIN,
    "operations.add_site": ADMIN,
    "sites.add": ADMIN,
    "sites_api.post_site": ADMIN,
    "sites_api.list_sites": STAFF,
    "sites.index": WATCHERS,
    "sites.edit": COORDINATOR,
    "sites.set_status": COORDINATOR,
    "sites.shuttle": COORDINATOR,
    "sites_api.patch_site": COORDINATOR,
    "sites_api.transfer": COORDINATOR,
    "sites.recruitment": PUBLIC,                  # the recruitment page: today's quotas
    "sites_api.get_recruitment": PUBLIC,

    # --- volunteers: their own pages (by their code), registration, reception ---------------
    "volunteers.register": PUBLIC,
    "volunteers_api.post_volunteer": PUBLIC,
    "volunteers.self_checkin": PUBLIC,
    "volunteers.my_page": PUBLIC,                 # the code in the URL is the credential
    "volunteers.qr_png": PUBLIC,
    "volunteers.qr_svg": PUBLIC,
    "volunteers.team_step": PUBLIC,               # the leader, from their own page
    "volunteers.team_report": PUBLIC,
    "reception.kiosk": RECEPTION,
    "reception.roster_page": RECEPTION,
    "reception.nametags": RECEPTION,
    "reception.register_poster": RECEPTION,
    "reception.checkin_poster": RECEPTION,
    "volunteers_api.search_volunteers": RECEPTION,
    "volunteers_api.lookup": RECEPTION,
    "volunteers_api.volunteer_card": RECEPTION,
    "volunteers_api.reissue_code": RECEPTION,
    "volunteers_api.post_checkin": RECEPTION,
    "volunteers_api.list_checkins": RECEPTION,
    "volunteers_api.decode": RECEPTION,
    "fallback.index": RECEPTION,                  # the printed pack for a power cut
    "fallback.pack": RECEPTION,
    "fallback.scan": RECEPTION,

    # --- needs (ニーズ): survivors' records ----------------------------------------------------
    "needs.index": NEEDS,
    "needs.new": NEEDS,
    "needs.detail": NEEDS,
    "needs.change_status": NEEDS,
    "needs.survey": NEEDS,
    "needs.merge": NEEDS,
    "needs.call": NEEDS,
    "needs.photos": NEEDS,
    "needs_api.list_needs": NEEDS,
    "needs_api.post_need": NEEDS,
    "needs_api.duplicates": NEEDS,
    "needs_api.get_need": NEEDS,
    "needs_api.patch_need": NEEDS,
    "needs_api.put_point": NEEDS,
    "needs_api.merge": NEEDS,
    "needs_api.post_call": NEEDS,
    "needs_api.post_survey": NEEDS,
    "needs_api.post_photo": NEEDS,
    "needs_api.get_photo": NEEDS,
    "maps_api.map_needs": NEEDS,

    # --- matching, teams, dispatch, safety ------------------------------------------------------
    "maps.coordinator": COORDINATOR,
    "maps.map_script": COORDINATOR,
    "maps.overview": WATCHERS,                    # the morning meeting's A4 map
    "matching_api.suggestions": COORDINATOR,
    "matching_api.accept": COORDINATOR,
    "teams_api.available": COORDINATOR,
    "teams_api.post_team": COORDINATOR,
    "teams_api.list_teams": WATCHERS,
    "teams_api.dispatch": COORDINATOR,
    "teams_api.arrive": COORDINATOR,
    "teams_api.finish": COORDINATOR,
    "teams_api.disband": COORDINATOR,
    "teams_api.report": RECEPTION,                # the report desk takes reports back
    "teams_api.return_": RECEPTION,
    "teams_api.overdue": DASHBOARD,               # the roll call (安否確認)
    "teams_api.post_incident": RECEPTION,
    "teams_api.list_incidents": COORDINATOR,
    "teams_api.recall": COORDINATOR,              # recall every team at once
    "teams.desk": RECEPTION,
    "teams.report": RECEPTION,
    "teams.returned": RECEPTION,
    "teams.sheet": RECEPTION,
    "teams.safety": COORDINATOR,
    "teams.recall": COORDINATOR,

    # --- equipment (資機材) ---------------------------------------------------------------------
    "equipment.desk": EQUIPMENT,
    "equipment.lend": EQUIPMENT,
    "equipment.take_back": EQUIPMENT,
    "equipment.add_item": STOCK,
    "equipment.receive": STOCK,
    "equipment_api.list_item_types": EQUIPMENT | roles("viewer"),
    "equipment_api.stock": EQUIPMENT | roles("viewer"),
    "equipment_api.low": EQUIPMENT | roles("viewer"),
    "equipment_api.post_item_type": STOCK,
    "equipment_api.receive": STOCK,
    "equipment_api.adjust": STOCK,
    "equipment_api.lend": EQUIPMENT,
    "equipment_api.return_": EQUIPMENT,
    "equipment_api.team_equipment": roles("coordinator", "equipment", "reception", "viewer"),

    # --- districts and shelters (福祉避難所) -----------------------------------------------------
    "districts.index": PLACES,
    "districts_api.list_districts": PLACES,
    # It replaces every district and re-places every open need.
    "districts.import_file": ADMIN,
    "districts_api.import_districts": ADMIN,
    "shelters.index": PLACES,
    "shelters.room": PLACES,
    "shelters_api.list_shelters": PLACES,
    "shelters_api.room": PLACES,
    "shelters.create": COORDINATOR,
    "shelters.set_status": COORDINATOR,
    "shelters.occupancy": COORDINATOR,
    "shelters.request_help": COORDINATOR,
    "shelters_api.post_shelter": COORDINATOR,
    "shelters_api.patch_shelter": COORDINATOR,
    "shelters_api.post_occupancy": COORDINATOR,
    "shelters_api.post_request": COORDINATOR,

    # --- reports: the daily report, the dashboard, open counts, exports --------------------
    "dashboard.page": DASHBOARD,
    "dashboard.panels": DASHBOARD,
    "dashboard_api.dashboard": DASHBOARD,
    "reports.daily": WATCHERS,
    "reports.daily_csv": WATCHERS,
    "reports.daily_xlsx": WATCHERS,
    "reports.save_note": ADMIN,                   # the head of the centre's notes
    "reports.stats": PUBLIC,                      # counts only, as councils publish them
    "reports_api.daily_stats": PUBLIC,
    "reports.prefecture": PREFECTURE,
    # The whole operation holds personal data: the head of the centre alone exports it.
    "reports.export": ADMIN,
    "reports.export_needs": ADMIN,
    "reports.export_zip": ADMIN,

    # --- the audit trail: who viewed or changed survivors' and volunteers' records ---------
    # The head of the centre alone: coordinators open needs the most, and those whose reading
    # is watched do not search the watch (a name or a phone there leads to the records too).
    "audit.index": ADMIN,
    "audit.export_csv": ADMIN,

    # --- drills (訓練): the trainer runs them; every desk plays -------------------------------
    "drills_api.post_drill": TRAINER,
    "drills_api.post_clock": TRAINER,
    "drills_api.post_skip": TRAINER,
    "drills_api.post_release": TRAINER,
    "drills_api.get_timeline": TRAINER,           # with the controllers' notes
    "drills_api.get_metrics": roles("trainer", "viewer"),
    "drills_api.get_state": STAFF,
    "drills_api.post_tick": STAFF,                # every open drill page delivers what is due
    "drills_api.get_messages": PLAYERS,
    "drills_api.post_ack": PLAYERS,
    "drills.index": TRAINER,                      # the scenarios and the drills so far
    "drills.start": TRAINER,
    "drills.console": TRAINER,                    # with the controllers' notes
    "drills.inbox": PLAYERS,
    "drills.queue": RECEPTION | TRAINER,          # the trainer watches; reception checks in
    "drills_api.get_scenario": TRAINER,           # any operation's day, nothing personal
    "drills_api.post_replay": TRAINER,
    "drills_api.post_fork": TRAINER,
    "drill_review.page": TRAINER,                 # the after-action report
    "drill_review.save": TRAINER,
}


def allowed_roles(endpoint: str) -> frozenset[str] | None:
    """Return who may use an endpoint (admin included), PUBLIC, or None when it is not in
    the table (nobody)."""
    entry = ACCESS.get(endpoint)
    if entry is None or entry is PUBLIC:
        return entry
    return entry | {"admin"}


def grid() -> str:
    """Return the table as a Markdown grid: one line per endpoint, one column per role."""
    head = ["endpoint", "anonymous", *ROLES]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for endpoint in sorted(ACCESS):
        who = allowed_roles(endpoint)
        cells = ["x" if who is PUBLIC else ""]
        cells += ["x" if who is PUBLIC or role in who else "" for role in ROLES]
        lines.append("| " + " | ".join([endpoint, *cells]) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(grid())

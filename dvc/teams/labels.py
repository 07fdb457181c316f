"""People's words for team codes (グループ, 活動報告)."""
from flask_babel import lazy_gettext as _l

STATUSES = {"formed": _l("Formed"), "dispatched": _l("On the way"), "on_site": _l("On site"),
            "finished": _l("Heading back"), "returned": _l("Back at the centre"),
            "disbanded": _l("Disbanded")}
TRANSPORT = {"walk": _l("On foot"), "own_vehicle": _l("Own vehicle"), "shuttle": _l("Shuttle"),
             "centre_vehicle": _l("Centre vehicle")}
OUTCOMES = {"completed": _l("Completed"), "continuing": _l("Continuing (work remains)")}
INCIDENT_KINDS = {"injury": _l("Injury"), "near_miss": _l("Near-miss")}
SEVERITIES = {"minor": _l("Minor"), "treated": _l("Treated (first aid)"),
              "hospital": _l("Went to hospital")}


def label(table: dict, key: str | None) -> str:
    """Return the label of `key`, or the key itself."""
    return "" if key is None else str(table.get(key, key))

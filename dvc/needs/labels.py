"""People's words for need codes (ニーズの区分)."""
from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "mud_removal": _l("Mud removal"), "furniture_removal": _l("Carrying out furniture"),
    "tidying": _l("Tidying"), "cleaning": _l("Cleaning"), "debris": _l("Debris removal"),
    "transport": _l("Transport"), "companionship": _l("Companionship"), "other": _l("Other"),
}
DAMAGE = {"above_floor": _l("Flooded above floor"), "below_floor": _l("Flooded below floor"),
          "partial": _l("Partly damaged"), "none": _l("No damage"), "unknown": _l("Unknown")}
PRIORITIES = {"urgent": _l("Urgent"), "high": _l("High"), "normal": _l("Normal"),
              "low": _l("Low")}
SOURCES = {"phone": _l("Phone"), "walk_in": _l("Walk-in"), "outreach": _l("Outreach"),
           "shelter": _l("Shelter")}
STATUSES = {
    "received": _l("Received"), "survey": _l("Survey"), "ready": _l("Ready"),
    "assigned": _l("Assigned"), "in_progress": _l("In progress"),
    "continuing": _l("Continuing"), "completed": _l("Completed"), "on_hold": _l("On hold"),
    "cancelled": _l("Cancelled"), "referred": _l("Referred to specialists"),
}
CARE = {"elderly": _l("Elderly"), "disabled": _l("Disabled"), "living_alone": _l("Living alone")}
DECISIONS = {"ready": _l("Ready for volunteers"), "specialist": _l("Specialists only"),
             "on_hold": _l("On hold"), "cancelled": _l("Cancelled")}
# What happened to a need, for its history on the detail page.
EVENTS = {
    "need.received": _l("Received"), "need.status_changed": _l("Status changed"),
    "need.call_added": _l("Repeat call added"), "need.merged": _l("Duplicate merged into it"),
    "need.surveyed": _l("Site survey"), "need.photo_added": _l("Photo added"),
    "need.viewed": _l("Viewed"),
}

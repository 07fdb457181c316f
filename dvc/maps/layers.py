"""The map's layers (districts, sites, shelters): people's words for their codes, what the
coordinator's map page tells layers.js, and the figures the printed overview is drawn from."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dvc.core.context import now
from dvc.districts.operations import district_rows, needs_to_check
from dvc.maps import style
from dvc.maps.overview import DistrictFigure, ShelterFigure, SiteFigure, Words
from dvc.shelters import labels as shelter_labels
from dvc.sites import labels as site_labels

# Occupancy classes (dvc.maps.style.shelter_class), as the legend and the markers say them.
OCCUPANCY = {"free": _l("Room"), "nearly_full": _l("Nearly full"), "full": _l("Full"),
             "closed": _l("Closed"), "not_open": _l("Not open")}
# The short tag on a site's marker: main centre or satellite.
SITE_TAGS = {"main": _l("HQ"), "satellite": _l("Sat.")}


def words() -> Words:
    """The overview map's words in the reader's language."""
    return Words(
        title=_("Overview map"), as_of=_("As of %(time)s", time="%(time)s"),
        open_waiting=_("%(open)s open · %(waiting)s waiting", open="%(open)s",
                       waiting="%(waiting)s"),
        legend_needs=_("Open needs per district"),
        legend_sites=_("Sites and service areas"),
        legend_shelters=_("Shelters: staying / capacity"),
        main=str(site_labels.KINDS["main"]), satellite=str(site_labels.KINDS["satellite"]),
        main_tag=str(SITE_TAGS["main"]), satellite_tag=str(SITE_TAGS["satellite"]),
        site_status={k: str(v) for k, v in site_labels.STATUSES.items()},
        today_quota=_("Today %(today)s of %(quota)s · tomorrow %(tomorrow)s",
                      today="%(today)s", quota="%(quota)s", tomorrow="%(tomorrow)s"),
        today=_("Today %(today)s · tomorrow %(tomorrow)s", today="%(today)s",
                tomorrow="%(tomorrow)s"),
        shelter_class={k: str(v) for k, v in OCCUPANCY.items()},
        projection=_("Projection: %(crs)s", crs="%(crs)s"),
        no_districts=_("No districts yet: import the council's district file."))


def local_stamp() -> str:
    """The app's time now, in the centre's time zone, as the overview prints it."""
    return now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(
        "%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class DistrictRow:
    """One line of the table beside the overview map."""

    name: str
    open_needs: int
    waiting_needs: int
    colour: str
    shelters: int
    occupied: int
    capacity: int


@dataclass(frozen=True)
class OverviewData:
    districts: list[DistrictFigure]
    sites: list[SiteFigure]
    shelters: list[ShelterFigure]
    rows: list[DistrictRow]
    outside: int          # open needs outside every district (to check)
    unplaced: int         # open needs in no known district (no point, or none imported)


def overview_data(operation) -> OverviewData:
    """Read the figures the overview is drawn from (counts only: no one's personal data)."""
    from dvc.districts.operations import need_counts
    from dvc.shelters.operations import list_shelters
    from dvc.sites.recruitment import inflow
    counts = need_counts(operation)
    districts = [DistrictFigure(d.name, d.geometry, counts.get(d.name, {}).get("open", 0),
                                counts.get(d.name, {}).get("waiting", 0))
                 for d in district_rows(operation)]
    sites = []
    for site in operation.sites:
        load = inflow(site)
        sites.append(SiteFigure(site.name, site.kind, site.status, site.lat, site.lon,
                                tuple(site.service_districts or ()), load.today_people,
                                site.daily_quota, load.tomorrow))
    rows = list_shelters(operation)
    shelters = [ShelterFigure(i + 1, s.name, s.kind, s.status, s.lat, s.lon, s.capacity,
                              s.occupied) for i, s in enumerate(rows)]
    named = {d.name for d in districts}
    return OverviewData(districts, sites, shelters, _district_rows(districts, rows),
                        outside=len(needs_to_check(operation)),
                        unplaced=sum(c["open"] for name, c in counts.items()
                                     if name not in named))


def _district_rows(districts: list[DistrictFigure], shelters) -> list[DistrictRow]:
    breaks = style.need_breaks(max((d.open_needs for d in districts), default=0))
    by_district: dict[str, list] = {}
    for shelter in shelters:
        by_district.setdefault(shelter.district, []).append(shelter)
    rows = []
    for d in districts:
        here = by_district.get(d.name, [])
        rows.append(DistrictRow(d.name, d.open_needs, d.waiting_needs,
                                style.need_colour(d.open_needs, breaks), len(here),
                                sum(s.occupied for s in here), sum(s.capacity for s in here)))
    return rows


def page_text() -> dict:
    """What layers.js says, in the reader's language."""
    return {
        "layers": {"districts": _("Districts: open needs"),
                   "sites": _("Sites and service areas"), "shelters": _("Shelters")},
        "layer_names": {"districts": _("Districts"), "sites": _("Sites"),
                        "shelters": _("Shelters")},
        "district_counts": _("%(open)s open · %(waiting)s waiting", open="%(open)s",
                             waiting="%(waiting)s"),
        "district_title": _("%(name)s: %(open)s open needs, %(waiting)s waiting for a team",
                            name="%(name)s", open="%(open)s", waiting="%(waiting)s"),
        "legend_needs": _("Open needs per district"),
        "legend_sites": _("Sites"), "legend_shelters": _("Shelters"),
        "site_kinds": {k: str(v) for k, v in site_labels.KINDS.items()},
        "site_tags": {k: str(v) for k, v in SITE_TAGS.items()},
        "site_statuses": {k: str(v) for k, v in site_labels.STATUSES.items()},
        "shelter_kinds": {k: str(v) for k, v in shelter_labels.KINDS.items()},
        "occupancy": {k: str(v) for k, v in OCCUPANCY.items()},
        "care": {k: str(v) for k, v in shelter_labels.CARE_TYPES.items()},
        "fields": {"status": _("Status"), "kind": _("Kind"),
                   "today": _("Checked in today"), "quota": _("Daily quota"),
                   "tomorrow": _("Recommended for tomorrow"), "capacity": _("Capacity"),
                   "occupied": _("Staying now"), "free": _("Free places"),
                   "care": _("Care types"), "area": _("Service area")},
        "no_quota": _("no limit"), "none": _("none"),
        "people": _("%(n)s people", n="%(n)s"),
        "denied": _("Your role may not see the %(layer)s layer.", layer="%(layer)s"),
        "missing": _("The %(layer)s layer is not available on this server.",
                     layer="%(layer)s"),
        "failed": _("The %(layer)s layer could not be updated at %(time)s: it shows the last "
                    "data it had.", layer="%(layer)s", time="%(time)s"),
        "never": _("The %(layer)s layer could not be loaded: %(reason)s", layer="%(layer)s",
                   reason="%(reason)s"),
        "status_error": _("the server answered with an error (%(status)s).",
                          status="%(status)s"),
        "signed_out": _("Your session has ended: sign in again to update the %(layer)s layer.",
                        layer="%(layer)s"),
        "outside": _("%(n)s open needs lie outside every district: check their addresses.",
                     n="%(n)s"),
    }


def page_style() -> dict:
    """The layers' palette for layers.js (the same as the overview's)."""
    return {"need_scale": list(style.NEED_SCALE), "no_needs": style.NO_NEEDS,
            "site_colours": list(style.SITE_COLOURS), "site_dashes": list(style.SITE_DASHES),
            "shelter_colours": style.SHELTER_COLOURS, "nearly_full": style.NEARLY_FULL}

"""JSON API for sites: the main centre and satellites, their service areas and the shuttle."""
from __future__ import annotations

from dvc.auth.access import actor_name
from dvc.core.schemas import GeoCollectionOut, GeoFeatureOut
from dvc.extensions import ApiBlueprint
from dvc.operations.operations import get_operation
from dvc.sites import operations as ops
from dvc.sites.recruitment import inflow, recruitment
from dvc.sites.schemas import (RecruitmentOut, SiteIn, SitePatch, TransferIn,
                               TransferOut)

bp = ApiBlueprint("sites_api", __name__, url_prefix="/api/v1",
                  description="Sites: main centre and satellites (サテライト)")

def feature(site) -> dict:
    """A site as a GeoJSON feature with today's load and tomorrow's recommendation."""
    load = inflow(site)
    geometry = None if site.lat is None else {"type": "Point",
                                              "coordinates": [site.lon, site.lat]}
    stamp = {k: getattr(site, k).isoformat() if getattr(site, k) else None
             for k in ("opened_dt", "paused_dt", "closed_dt")}
    return {"type": "Feature", "id": site.id, "geometry": geometry, "properties": {
        "name": site.name, "kind": site.kind, "status": site.status, "district": site.district,
        "service_districts": site.service_districts, "opens_at": site.opens_at,
        "closes_at": site.closes_at, "daily_quota": site.daily_quota, "staff": site.staff,
        "today_people": load.today_people, "recruitment": load.status,
        "people_needed": load.people_needed, "equipment_limit": load.equipment_limit,
        "tomorrow": load.tomorrow, **stamp}}


@bp.route("/operations/<int:op_id>/sites", methods=["GET"])
@bp.alt_response(200, schema=GeoCollectionOut, success=True, description="Sites as GeoJSON")
def list_sites(op_id):
    """The operation's sites as a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection",
            "features": [feature(s) for s in get_operation(op_id).sites]}


@bp.route("/operations/<int:op_id>/sites", methods=["POST"])
@bp.arguments(SiteIn)
@bp.alt_response(201, schema=GeoFeatureOut, success=True, description="The new site")
def post_site(data, op_id):
    """Add a satellite (or the main centre, once)."""
    site = ops.create_site(get_operation(op_id), data["name"], data["kind"], lat=data["lat"],
                           lon=data["lon"], actor=actor_name())
    return feature(site), 201


@bp.route("/sites/<int:site_id>", methods=["PATCH"])
@bp.arguments(SitePatch)
@bp.alt_response(200, schema=GeoFeatureOut, success=True, description="The site as it is now")
def patch_site(data, site_id):
    """Open, pause or close a site; change its point, service area, hours, quota or staff."""
    site = ops.get_site(site_id)
    status = data.pop("status", None)
    if data:
        ops.update_site(site, data, actor=actor_name())
    if status:
        ops.set_site_status(site, status, actor=actor_name())
    return feature(site)


@bp.route("/sites/<int:site_id>/transfer", methods=["POST"])
@bp.arguments(TransferIn)
@bp.alt_response(200, schema=TransferOut, success=True)
def transfer(data, site_id):
    """Send checked-in volunteers to this site (the shuttle from the main centre)."""
    site = ops.get_site(site_id)
    moved = ops.transfer_volunteers(get_operation(site.operation_id), site,
                                    data["volunteer_ids"], actor=actor_name())
    return {"site_id": site.id, "moved": [c.volunteer_id for c in moved],
            "people": sum(c.headcount for c in moved)}


@bp.route("/operations/<int:op_id>/recruitment", methods=["GET"])
@bp.alt_response(200, schema=RecruitmentOut, success=True)
def get_recruitment(op_id):
    """Public recruitment status (募集状況) per site: counts only, no personal data."""
    operation = get_operation(op_id)
    return {"operation": operation.name, "sites": [
        {"site_id": f.site.id, "name": f.site.name, "kind": f.site.kind, "status": f.status,
         "opens_at": f.site.opens_at, "closes_at": f.site.closes_at,
         "today": f.today_people, "quota": f.quota, "tomorrow": f.tomorrow,
         "tomorrow_date": f.tomorrow_date.isoformat()} for f in recruitment(operation)]}

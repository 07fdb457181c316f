"""JSON for the map: the needs in a compact form, compressed, answered 304 when unchanged."""
from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Response, current_app, request
from sqlalchemy import DateTime, func, or_, select, type_coerce

from dvc.core.context import today
from dvc.core.events import Event
from dvc.extensions import ApiBlueprint, db
from dvc.maps.compact import etag_of, needs_json
from dvc.maps.schemas import CompactNeedsOut
from dvc.needs.models import CATEGORIES, PRIORITIES, STATUSES, Need
from dvc.needs.schemas import NeedFilter
from dvc.operations.operations import get_operation

bp = ApiBlueprint("maps_api", __name__, url_prefix="/api/v1",
                  description="The coordinator's map (地図)")

# 20,000 needs: level 4 makes ~300 KB in ~25 ms; level 6 saves 10% more for three times the CPU.
GZIP_LEVEL = 4
GZIP_MIN_BYTES = 1024
# Reading a view changes nothing on the map.
UNCHANGING_EVENTS = ("need.viewed", "volunteer.viewed")


@dataclass
class Snapshot:
    etag: str
    body: bytes
    gzipped: bytes | None = None


class SnapshotCache:
    """The last few answers, by operation, filters and data version: every screen polling the
    map while nothing changes costs two small queries, not 20,000 rows encoded again."""

    def __init__(self, size: int = 16):
        self.size = size
        self._items: OrderedDict[tuple, Snapshot] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Snapshot | None:
        with self._lock:
            snapshot = self._items.get(key)
            if snapshot is not None:
                self._items.move_to_end(key)
            return snapshot

    def put(self, key: tuple, snapshot: Snapshot) -> None:
        with self._lock:
            self._items[key] = snapshot
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def snapshots() -> SnapshotCache:
    """This app's cache (one per app, so tests and several apps never share answers)."""
    return current_app.extensions.setdefault("dvc.map_snapshots", SnapshotCache())


def data_version(operation_id: int) -> tuple:
    """What changes whenever a need of the operation does: every change appends an event (the
    one event log), and the count and highest id catch rows added or removed without one."""
    last_event = db.session.scalar(
        select(Event.id).where(Event.operation_id == operation_id,
                               Event.kind.not_in(UNCHANGING_EVENTS))
        .order_by(Event.id.desc()).limit(1))
    count, top = db.session.execute(select(func.count(), func.max(Need.id))
                                    .where(Need.operation_id == operation_id)).one()
    return last_event, count, top


def _needs_rows(operation_id: int, filters: dict):
    # Table columns, not ORM attributes: plain rows, no ORM bookkeeping for 20,000 of them;
    # received_dt as stored (naive UTC), without a Python call a row to make it aware.
    t = Need.__table__.c
    query = select(t.id, t.lon, t.lat, t.status, t.category, t.priority, t.people_min,
                   t.people_max, t.district, t.site_id, t.vehicle_needed,
                   or_(t.elderly, t.disabled, t.living_alone),
                   type_coerce(t.received_dt, DateTime())
                   ).where(t.operation_id == operation_id)
    if filters["status"]:
        query = query.where(t.status.in_(filters["status"]))
    if filters["category"]:
        query = query.where(t.category.in_(filters["category"]))
    if filters["district"]:
        query = query.where(t.district.in_(filters["district"]))
    # In the order of the index on (operation, status): a stable order (for the ETag), and no
    # sort of 20,000 rows, which took SQLite longer than reading them.
    return db.session.execute(query.order_by(t.status, t.id)).all()


def send_snapshot(snapshot: Snapshot) -> Response:
    """Answer with a strong ETag (304 when the client has it) and gzip when accepted."""
    headers = {"ETag": snapshot.etag, "Cache-Control": "private, no-cache",
               "Vary": "Accept-Encoding"}
    if snapshot.etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    body = snapshot.body
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("Accept-Encoding", ""):
        if snapshot.gzipped is None:
            snapshot.gzipped = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        body = snapshot.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, mimetype="application/json", headers=headers)


@bp.route("/operations/<int:op_id>/map/needs", methods=["GET"])
@bp.arguments(NeedFilter, location="query")
@bp.alt_response(200, schema=CompactNeedsOut, success=True, description="The needs, compact")
@bp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
def map_needs(filters, op_id):
    """The needs GeoJSON's properties in compact form: `{"columns", "codes", "rows"}`.

    One array per need in `columns` order (id, lon, lat, status, category, priority,
    people_min, people_max, district, site_id, vehicle_needed, care, days_waiting); status,
    category, priority and district are indexes into `codes`. No names, phones or addresses.
    Filters as for the GeoJSON: ?status=a,b&category=&district=. Send If-None-Match with the
    last ETag to get 304 when nothing changed.
    """
    operation = get_operation(op_id)
    day = today()
    key = (operation.id, day, data_version(operation.id),
           *(tuple(sorted(filters[k])) for k in ("status", "category", "district")))
    cache = snapshots()
    snapshot = cache.get(key)
    if snapshot is None:
        body = needs_json(_needs_rows(operation.id, filters), today=day,
                          tz=current_app.config["TIMEZONE"], statuses=STATUSES,
                          categories=CATEGORIES, priorities=PRIORITIES)
        snapshot = Snapshot(f'"{etag_of(body)}"', body)
        cache.put(key, snapshot)
    return send_snapshot(snapshot)

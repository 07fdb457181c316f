"""People's words for site codes."""
from flask_babel import lazy_gettext as _l

KINDS = {"main": _l("Main centre"), "satellite": _l("Satellite")}
STATUSES = {"open": _l("Open"), "paused": _l("Paused"), "closed": _l("Closed")}

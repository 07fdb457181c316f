"""People's words for site codes."""
from flask_babel import lazy_gettext as _l

KINDS = {"main": _l("Main centre"), "satellite": _l("Satellite")}
STATUSES = {"open": _l("Open"), "paused": _l("Paused"), "closed": _l("Closed")}
# The public recruitment page (募集状況): what a volunteer deciding where to go needs to know.
RECRUITMENT = {"open": _l("Taking volunteers"), "nearly_full": _l("Nearly full"),
               "full": _l("Full today"), "closed": _l("Closed")}
# The buttons that change a site's status.
STATUS_ACTIONS = {"open": _l("Open the site"), "paused": _l("Pause the site"),
                  "closed": _l("Close the site")}

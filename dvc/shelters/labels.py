"""People's words for shelter codes (避難所・福祉避難所)."""
from flask_babel import lazy_gettext as _l

KINDS = {"welfare": _l("Welfare shelter"), "general": _l("General shelter")}
DESIGNATIONS = {"designated": _l("Designated"), "agreement": _l("By agreement")}
STATUSES = {"not_open": _l("Not open"), "open": _l("Open"), "full": _l("Full"),
            "closed": _l("Closed")}
# 要配慮者: who a welfare shelter can take; "other" counts everyone else staying (carers too).
CARE_TYPES = {"frail_elderly": _l("Frail elderly"), "wheelchair": _l("Wheelchair users"),
              "dementia": _l("Dementia"), "medical_care": _l("Medical care"),
              "pregnant": _l("Pregnant women"), "infants": _l("Infants")}
OCCUPANCY = {**CARE_TYPES, "other": _l("Others (carers, family)")}
WARNINGS = {"over_capacity": _l("More people than places: the shelter is full. "
                                "Find room elsewhere for anyone else.")}

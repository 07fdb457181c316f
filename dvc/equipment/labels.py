"""People's words for equipment codes."""
from flask_babel import lazy_gettext as _l

CONDITIONS = {"good": _l("Good"), "dirty": _l("Dirty: to be cleaned"),
              "damaged": _l("Damaged"), "lost": _l("Lost")}

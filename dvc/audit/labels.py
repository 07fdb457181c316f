"""People's words for the audit trail's record types and event kinds."""
from flask_babel import lazy_gettext as _l

from dvc.needs import labels as need_labels

SUBJECTS = {"need": _l("Need"), "volunteer": _l("Volunteer")}
KINDS = {
    **need_labels.EVENTS,
    "need.moved": _l("Point moved"),
    "volunteer.registered": _l("Registered"),
    "volunteer.viewed": _l("Viewed"),
    "volunteer.code_reissued": _l("Code reissued"),
    "volunteer.insurance_enrolled": _l("Insurance taken out at the centre"),
}


def kind_label(kind: str) -> str:
    """Name an event kind with its record type ("Need: Viewed"); unknown kinds by their code."""
    subject = SUBJECTS.get(kind.split(".", 1)[0])
    label = KINDS.get(kind)
    if subject is None or label is None:
        return kind
    return f"{subject}: {label}"

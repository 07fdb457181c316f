"""Form helpers shared by every domain's forms."""
from __future__ import annotations

from wtforms.fields.choices import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_domain_errors(form, err) -> bool:
    """Put a domain error's field messages beside the form's fields; return False when none of
    its fields is on this form (the caller then shows the message at the top).

    Some rules name the field with a code ("required", "same") rather than a sentence: the
    error's own message is shown there instead of the code."""
    shown = False
    for name, value in (getattr(err, "fields", None) or {}).items():
        field = getattr(form, name, None)
        if field is None:
            continue
        text = str(value)
        message = err.message if text.replace("_", "").isalpha() and text.islower() else text
        field.errors = [*field.errors, message]
        shown = True
    return shown


def show_domain_error(form, err, fallback: str) -> None:
    """Put a domain error beside its fields, or beside `fallback` when none is on this form."""
    if not show_domain_errors(form, err):
        field = getattr(form, fallback)
        field.errors = [*field.errors, err.message]

"""Domain errors: raised by operations, turned into a clear message by views and the API."""
from __future__ import annotations

import re


class DomainError(Exception):
    """A rule of the domain said no; `code` is stable for machines, `message` is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None,
                 status: int | None = None, data: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}
        self.data = data or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "validation_error"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


# --- field messages from the API's schemas (marshmallow), in the API's own words -----------

def N_(text: str) -> str:
    """Mark a message for translation (pybabel -k N_); the Flask layer translates it."""
    return text


# Marshmallow's English messages -> ours, translated per request (pattern, msgid).
FIELD_MESSAGES = tuple((re.compile(pattern), msgid) for pattern, msgid in (
    (r"Missing data for required field\.|Field may not be null\.", N_("Please fill this in.")),
    (r"Must be one of: (?P<choices>.*)\.", N_("Choose one of: %(choices)s.")),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
     N_("Between %(min)s and %(max)s characters.")),
    (r"Longer than maximum length (?P<max>\d+)\.", N_("At most %(max)s characters.")),
    (r"Shorter than minimum length (?P<min>\d+)\.", N_("At least %(min)s characters.")),
    (r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
     N_("Between %(min)s and %(max)s.")),
    (r"Must be greater than (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
     N_("More than %(min)s and at most %(max)s.")),
    (r"Must be greater than or equal to (?P<min>\S+)\.", N_("At least %(min)s.")),
    (r"Must be less than or equal to (?P<max>\S+)\.", N_("At most %(max)s.")),
    (r"Not a valid integer\.", N_("Enter a whole number.")),
    (r"Not a valid number\.|Number too large\.|Special numeric values .*",
     N_("Enter a number.")),
    (r"Not a valid (utf-8 )?string\.", N_("Enter text.")),
    (r"Not a valid boolean\.", N_("Answer true or false.")),
    (r"Not a valid date\.|.* cannot be formatted as a date\.",
     N_("Enter a date as YYYY-MM-DD.")),
    (r"Not a valid (aware |naive )?datetime\.|.* cannot be formatted as a \w+\.",
     N_("Enter a date and time (ISO 8601).")),
    (r"Not a valid list\.", N_("Send a list.")),
    (r"Not a valid mapping type\.|Invalid (input )?type\.", N_("This has the wrong type.")),
    (r"Not a valid email address\.", N_("Enter an email address.")),
    (r"Unknown field\.", N_("Unknown field.")),
))


def field_message(text: str, translate) -> str:
    """Return a schema's message for people: ours, through `translate(msgid, **values)`, when
    we know it; as it is otherwise (a message of our own, already translated)."""
    for pattern, msgid in FIELD_MESSAGES:
        found = pattern.fullmatch(text)
        if found:
            return translate(msgid, **found.groupdict(default=""))
    return text


def flatten_field_errors(messages, translate) -> dict[str, str]:
    """Turn webargs' {"json": {"items": {"0": {"quantity": ["..."]}}}} into
    {"items.0.quantity": "..."}: one message per field, the path of a nested one dotted; an
    item of a list of values, or a dict's key or value, is its field's (status.0 -> status)."""
    fields: dict[str, str] = {}

    def name(path: str) -> str:
        parts = (path or "_schema").split(".")
        while len(parts) > 1 and (parts[-1].isdigit() or parts[-1] in ("key", "value")):
            parts.pop()
        return ".".join(parts)

    def walk(errors, path: str) -> None:
        if isinstance(errors, dict):
            for key, value in errors.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(errors, (list, tuple)):
            if errors and all(isinstance(e, str) for e in errors):
                fields.setdefault(name(path), field_message(errors[0], translate))
            else:
                for item in errors:
                    walk(item, path)
        elif errors is not None:
            fields.setdefault(name(path), field_message(str(errors), translate))

    for location in (messages or {}).values():
        walk(location, "")
    return fields


def nul_fields(data, path: str = "") -> list[str]:
    """Return the dotted names of the strings (or keys) in `data` holding a NUL character, which
    no text needs and PostgreSQL refuses to store (it would be a 500 there, not an answer)."""
    if isinstance(data, str):
        return [path or "_schema"] if "\x00" in data else []
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            found += [name.replace("\x00", "")] if "\x00" in str(key) else nul_fields(value, name)
        return found
    if isinstance(data, (list, tuple)):
        return [name for i, item in enumerate(data)
                for name in nul_fields(item, f"{path}.{i}" if path else str(i))]
    return []

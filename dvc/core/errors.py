"""Domain errors: raised by operations, turned into a clear message by views and the API."""
from __future__ import annotations


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

"""Unbound extensions; `create_app` binds them."""
from flask import session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from marshmallow import INCLUDE, Schema, fields

from dvc.core.db import Base


class ErrorOut(Schema):
    """Every error of the API: a stable code, a sentence for people, the fields at fault."""

    class Meta:
        unknown = INCLUDE  # some errors add what the caller needs (a status, volunteer ids)

    error = fields.String(required=True, metadata={"description": "Stable code for machines"})
    message = fields.String(required=True, metadata={"description": "For people, translated"})
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                          data_key="fields",
                          metadata={"description": "Field name -> what is wrong with it"})


class DvcApi(Api):
    """flask-smorest, answering every HTTP error (page or API) in our format."""

    ERROR_SCHEMA = ErrorOut

    def handle_http_exception(self, error):
        from dvc.web import http_error
        return http_error(error)


class ApiBlueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, its argument schemas made once per endpoint: given a class,
    webargs makes a new schema (deep-copying every field) on every request."""

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema,
                                 *args, **kwargs)


class StaffLogin(LoginManager):
    """Flask-Login whose session protection guards signed-in sessions only: in "strong" mode it
    would also turn a bearer-token call anonymous when its client holds a visitor's session
    (a language choice), as that session was never bound to a device."""

    def _session_protection_failed(self):
        return "_user_id" in session and super()._session_protection_failed()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = StaffLogin()


def _client_address() -> str:
    from dvc.auth.limits import client_address
    return client_address()


# Per client address; the settings (RATELIMIT_*) and the limits themselves: dvc/auth/limits.py.
limiter = Limiter(_client_address)
csrf = CSRFProtect()
babel = Babel()
api = DvcApi()

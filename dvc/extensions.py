"""Unbound extensions; `create_app` binds them."""
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from dvc.core.db import Base


class DvcApi(Api):
    """flask-smorest, answering every HTTP error (page or API) in our format."""

    def handle_http_exception(self, error):
        from dvc.web import http_error
        return http_error(error)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
babel = Babel()
api = DvcApi()

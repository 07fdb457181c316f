"""dvc: operations system for disaster volunteer centres (災害ボランティアセンター)."""
from __future__ import annotations

from flask import Flask

from dvc.config import ROOT


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    from dvc import config
    config.load(app, test_config)

    from dvc import web
    web.init_app(app)

    from dvc import cli
    cli.init_app(app)
    return app

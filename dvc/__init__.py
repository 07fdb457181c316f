"""dvc: operations system for disaster volunteer centres (災害ボランティアセンター)."""
from __future__ import annotations

import os

from flask import Flask

from dvc.config import ROOT


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI."""
    # DVC_INSTANCE_PATH puts instance/ (config.py, secret_key, uploads) elsewhere, e.g. a
    # benchmark's temp dir or a read-only install; Flask finds it beside the package otherwise.
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("DVC_INSTANCE_PATH") or None,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    from dvc import config
    config.load(app, test_config)

    from dvc import web
    web.init_app(app)

    from dvc import cli
    cli.init_app(app)
    return app

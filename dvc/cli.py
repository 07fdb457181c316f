"""flask --app dvc ...: init-db, demo-data, user (create, token, sign-out-everywhere, unlock,
setup-link), districts import, serve."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from dvc.auth.models import ROLES, User
from dvc.core.errors import DomainError
from dvc.extensions import db

user_cli = AppGroup("user", help="Staff accounts.")
districts_cli = AppGroup("districts", help="District polygons (地区).")


def _commit_or_fail(fn):
    """Run a state change and commit it, printing a domain error instead of a traceback."""
    try:
        result = fn()
        db.session.commit()
        return result
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None


def _user_named(name: str) -> User:
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise click.ClickException(f"no user {name!r}")
    return user


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema."""
    upgrade()
    click.echo("database schema is up to date")


@click.command("demo-data")
@with_appcontext
def demo_data():
    """Load the fictional demo operation and demo accounts (once, into an empty database)."""
    from dvc.demo import holds_other_data, load_demo
    if holds_other_data():
        # Not an error: `make run` goes on to serve a real centre's database without the demo.
        click.echo("demo data not loaded: this database has accounts or operations of its "
                   "own, and the demo's accounts have published passwords. For training, use "
                   "another instance folder (DVC_INSTANCE_PATH) or DATABASE_URL.")
        return
    created = _commit_or_fail(load_demo)
    click.echo("demo data loaded" if created else "demo data already present")
    click.echo("DEMO DATA: every demo account's password is published (role-demo, e.g. "
               "admin / admin-demo): for training only, never for a real response")


@user_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default="")
@click.option("--operation", "operations", type=int, multiple=True,
              help="A council's staff: the operation(s) it may see (repeat). Without it the "
                   "account sees every operation on the server (prefecture staff).")
def user_create(name, role, password, display_name, operations):
    """Create a staff account."""
    from dvc.auth.operations import assign_operations, create_user

    def create():
        user = create_user(name, role, password, display_name=display_name, actor="cli")
        if operations:
            assign_operations(user, list(operations), actor="cli")
    _commit_or_fail(create)
    scope = f"operations {', '.join(map(str, operations))}" if operations else "all operations"
    click.echo(f"created {name} ({role}; {scope})")


@user_cli.command("operations")
@click.argument("name")
@click.argument("operation_ids", type=int, nargs=-1)
def user_operations(name, operation_ids):
    """Set the operations a staff account may see (none: every operation)."""
    from dvc.auth.operations import assign_operations
    user = _user_named(name)
    _commit_or_fail(lambda: assign_operations(user, list(operation_ids), actor="cli"))
    click.echo(f"{name} sees " + (f"operations {', '.join(map(str, operation_ids))}"
                                  if operation_ids else "every operation"))


@user_cli.command("token")
@click.argument("name")
def user_token(name):
    """Print a new API bearer token for a user (the last line is the token)."""
    from dvc.auth.operations import issue_token
    user = _user_named(name)
    token = _commit_or_fail(lambda: issue_token(user, actor="cli"))
    click.echo(f"bearer token for {name} (shown once; send it as 'Authorization: Bearer ...'):")
    click.echo(token)


@user_cli.command("sign-out-everywhere")
@click.argument("name")
def user_sign_out_everywhere(name):
    """End every session of a user (a lost tablet); API tokens stay valid."""
    from dvc.auth.operations import end_sessions
    _commit_or_fail(lambda: end_sessions(_user_named(name), actor="cli"))
    click.echo(f"{name} is signed out on every device")


@user_cli.command("unlock")
@click.argument("name")
def user_unlock(name):
    """Let a user locked out by wrong passwords sign in again now."""
    from dvc.auth.operations import unlock_user
    _commit_or_fail(lambda: unlock_user(_user_named(name), actor="cli"))
    click.echo(f"{name} may sign in again")


@user_cli.command("setup-link")
@click.option("--base", default="http://127.0.0.1:5000", show_default=True,
              help="The address the server is reached at.")
def user_setup_link(base):
    """Print the one-time link that creates the first admin account (first run only)."""
    from dvc.auth.operations import needs_first_admin
    from dvc.auth.setup import setup_path
    if not needs_first_admin():
        raise click.ClickException("accounts exist already: an admin creates the others "
                                   "(or `flask --app dvc user create`)")
    click.echo(_first_run_message(base.rstrip("/") + setup_path()))


def _first_run_message(link: str) -> str:
    return ("no staff account yet: open this link once to create the head of the centre's "
            f"(admin) account:\n  {link}")


@districts_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name-field", required=True, help="The field that holds each district's name.")
@click.option("--operation", "operation_id", type=int,
              help="The operation's id (default: the only open operation).")
@click.option("--layer", default=None, help="The layer to read, for a file with several.")
def districts_import(file, name_field, operation_id, layer):
    """Replace an operation's districts with a GeoJSON, GeoPackage or zipped Shapefile."""
    from pathlib import Path

    from dvc.districts.operations import import_districts, last_import
    operation = _operation_for(operation_id)
    rows = _commit_or_fail(lambda: import_districts(
        operation, file, name_field, source=Path(file).name, actor="cli", layer=layer))
    click.echo(f"imported {len(rows)} districts into operation {operation.id} "
               f"({operation.name}): {', '.join(r.name for r in rows)}")
    repaired = (last_import(operation) or {}).get("repaired")
    if repaired:
        click.echo(f"repaired broken outlines: {', '.join(repaired)}")


def _operation_for(operation_id: int | None):
    """Return the operation asked for, or the only open one; refuse to guess among several."""
    from dvc.operations.models import Operation
    if operation_id is not None:
        operation = db.session.get(Operation, operation_id)
        if operation is None:
            raise click.ClickException(f"no operation {operation_id}")
        return operation
    open_ = db.session.scalars(select(Operation).where(Operation.status == "open")
                              .order_by(Operation.id)).all()
    if len(open_) != 1:
        listed = ", ".join(f"{o.id} ({o.name})" for o in open_) or "none"
        raise click.ClickException(f"{len(open_)} operations are open ({listed}): "
                                   "choose one with --operation ID")
    return open_[0]


@click.command("serve")
@with_appcontext
@click.option("--host", default="0.0.0.0", show_default=True,
              help="0.0.0.0 lets tablets on the centre's Wi-Fi connect.")
@click.option("--port", default=5000, show_default=True)
@click.option("--threads", default=8, show_default=True)
@click.option("--https", "use_https", is_flag=True,
              help="Serve over HTTPS with the laptop's own certificate (see `tls init`).")
def serve(host, port, threads, use_https):
    """Run the production server (waitress, or cheroot for HTTPS: pure Python, also on Windows
    and macOS)."""
    from waitress import serve as waitress_serve

    from dvc.demo import demo_accounts
    app = current_app._get_current_object()
    log_file = log_to_instance(app)
    click.echo(f"log: {log_file}")
    if use_https:
        from dvc.deploy.cli import prepare_https
        tls_folder = prepare_https(app, port)
    else:
        click.echo(f"dvc is running: http://127.0.0.1:{port}/")
        for address in _lan_addresses():
            click.echo(f"  on the local network: http://{address}:{port}/")
    accounts = demo_accounts()
    if accounts:
        click.echo("DEMO DATA: these demo logins' passwords are published; never enter real "
                   "people's data here (user / password):")
        for user, password in accounts:
            click.echo(f"  {user:<13} {password}")
    _print_first_run_link(use_https, port)
    if use_https:
        from dvc.deploy.https import serve as https_serve
        return https_serve(app, host, port, tls_folder, threads)
    waitress_serve(app, host=host, port=port, threads=threads, ident="dvc")


def _print_first_run_link(use_https: bool, port: int) -> None:
    """On a server with no account yet, print the one-time link to create the admin's."""
    from dvc.auth.operations import needs_first_admin
    from dvc.auth.setup import setup_path
    if needs_first_admin():
        scheme = "https" if use_https else "http"
        click.echo(_first_run_message(f"{scheme}://127.0.0.1:{port}{setup_path()}"))


LOG_BYTES, LOG_FILES = 5 * 2**20, 10


def log_to_instance(app: Flask) -> str:
    """Write the server's log (the app's errors, waitress's, cheroot's) to instance/logs/,
    rotated, so a borrowed laptop keeps what happened beside its database."""
    import logging
    from logging.handlers import RotatingFileHandler
    from pathlib import Path
    folder = Path(app.instance_path) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dvc.log"
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_FILES,
                                      encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.INFO)
        root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    app.logger.info("dvc server starting")
    return str(path)


def _lan_addresses() -> list[str]:
    """Return this machine's IPv4 addresses other than loopback (no traffic is sent)."""
    import socket
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({i[4][0] for i in infos if not i[4][0].startswith("127.")})


def init_app(app: Flask) -> None:
    for command in (init_db, demo_data, user_cli, districts_cli, serve):
        app.cli.add_command(command)
    from dvc.backup.cli import init_app as init_backup_cli  # backup, restore, purge
    init_backup_cli(app)
    from dvc.deploy.cli import init_app as init_deploy_cli  # tls, tiles
    init_deploy_cli(app)
    from dvc.drills.cli import drill_cli  # drill check, drill run --headless
    app.cli.add_command(drill_cli)

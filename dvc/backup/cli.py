"""flask --app dvc backup / restore / close-operation / purge."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from dvc.backup import files, lifecycle
from dvc.backup.files import BackupError
from dvc.core.clock import local_day, wall_now
from dvc.core.context import now
from dvc.core.errors import DomainError
from dvc.extensions import db


def _fail(err: BackupError):
    return click.ClickException(err.message)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(min=0), default=None,
              help="Keep the newest N backups in DEST (default: BACKUP_KEEP; 0 keeps all).")
@with_appcontext
def backup(dest: Path, keep: int | None):
    """Copy the database into DEST while the app runs, and delete the oldest copies."""
    keep = current_app.config["BACKUP_KEEP"] if keep is None else keep
    try:
        made = files.make_backup(db.engine.url, dest, wall_now(), current_app.config["TIMEZONE"])
    except BackupError as err:
        raise _fail(err) from None
    click.echo(f"{made.path} ({_size(made.size)})")
    for old in files.rotate(dest, keep):
        click.echo(f"deleted old backup {old.name} (keeping the newest {keep})")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Really replace the database with the backup.")
@with_appcontext
def restore(file: Path, yes: bool):
    """Replace the database with a backup made by `flask backup` (asks for --yes)."""
    url = db.engine.url
    try:
        inside = files.backup_contents(file)
        live = files.live_contents(url)
    except BackupError as err:
        raise _fail(err) from None
    if not yes:
        raise click.ClickException(
            f"this replaces everything in {files.shown(url)} (now: {live}) with {file} "
            f"({inside}). Stop the app first (systemctl stop dvc, or Ctrl+C on the laptop), "
            "then run the same command again with --yes.")
    # Our own pooled connections must not keep the old database open under the restore.
    db.session.remove()
    db.engine.dispose()
    try:
        files.restore(url, file)
        after = files.live_contents(url)
    except BackupError as err:
        raise _fail(err) from None
    click.echo(f"restored {file} into {files.shown(url)}: {after}")
    head = _migration_head()
    if after.revision != head:
        click.echo(f"the backup's schema is {after.revision}, this version of dvc needs {head}: "
                   "run 'flask --app dvc db upgrade' before starting the app")


def _migration_head() -> str | None:
    from alembic.script import ScriptDirectory
    return ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()


@click.command("close-operation")
@click.argument("operation_id", type=int)
@click.option("--yes", is_flag=True, help="Really close it.")
@with_appcontext
def close_operation_command(operation_id: int, yes: bool):
    """Close an operation: no more registrations or check-ins; personal data goes later."""
    from dvc.operations.operations import close_operation, get_operation
    days = current_app.config["PERSONAL_DATA_DAYS"]
    try:
        operation = get_operation(operation_id)
        if not yes:
            raise click.ClickException(
                f"closing operation {operation.id} ({operation.name}) stops registration and "
                f"check-in; its personal data is removed {days} days later by "
                "'flask --app dvc purge'. Run again with --yes.")
        close_operation(operation, actor="cli")
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    click.echo(f"closed operation {operation.id} ({operation.name}); its personal data can be "
               f"purged from {_local(operation.closed_dt, days)}")


def _local(moment, days: int = 0) -> str:
    return local_day(moment + timedelta(days=days), current_app.config["TIMEZONE"]).isoformat()


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@with_appcontext
def purge(dry_run: bool):
    """Remove personal data of operations closed more than PERSONAL_DATA_DAYS ago."""
    days = current_app.config["PERSONAL_DATA_DAYS"]
    due = lifecycle.due_for_purge(now(), days)
    if not due:
        click.echo(f"nothing to purge: no operation closed more than {days} days ago "
                   "still holds personal data")
        return
    for operation in due:
        head = f"operation {operation.id} ({operation.name}), closed {_local(operation.closed_dt)}"
        if dry_run:
            click.echo(f"would purge {head}: {_preview(operation.id)}")
            continue
        result = lifecycle.purge_operation(operation, actor="cli")
        db.session.commit()
        shown = ", ".join(f"{n} {what}" for what, n in result.counts.items() if n)
        click.echo(f"purged {head}: {shown or 'nothing left to remove'}")
    if dry_run:
        click.echo("dry run: nothing was changed")


def _preview(op_id: int) -> str:
    from dvc.needs.models import Need, NeedPhoto
    from dvc.volunteers.models import Volunteer
    count = lambda q: db.session.scalar(select(func.count()).select_from(q))  # noqa: E731
    volunteers = count(select(Volunteer.id).where(Volunteer.operation_id == op_id).subquery())
    needs = count(select(Need.id).where(Need.operation_id == op_id).subquery())
    photos = count(select(NeedPhoto.id).join(Need).where(Need.operation_id == op_id).subquery())
    return f"{volunteers} volunteers, {needs} needs, {photos} photos"


def init_app(app: Flask) -> None:
    for command in (backup, restore, close_operation_command, purge):
        app.cli.add_command(command)

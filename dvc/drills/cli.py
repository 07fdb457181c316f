"""flask --app dvc drill ...: check scenario files, play one headless."""
from __future__ import annotations

import json
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import ArgumentError, OperationalError

from dvc.core.errors import DomainError

drill_cli = AppGroup("drill", help="Drills (訓練): check scenario files and play them headless.")


@drill_cli.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def drill_check(files):
    """Check scenario files: each problem with its line, column and field; exit 1 on errors."""
    from dvc.drills.scenario import check
    skills = tuple(current_app.config["SKILLS"])
    failed = False
    for name in files:
        problems = check(name, skills=skills)
        for problem in problems:
            click.echo(f"{name}:{problem}")
        errors = sum(1 for p in problems if p.severity == "error")
        warnings = len(problems) - errors
        failed |= bool(errors)
        if errors:
            click.echo(f"{name}: {errors} error(s), {warnings} warning(s)")
        else:
            click.echo(f"{name}: OK" + (f" ({warnings} warning(s))" if warnings else ""))
    if failed:
        raise SystemExit(1)


@drill_cli.command("run")
@click.argument("file")
@click.option("--headless", is_flag=True, required=True,
              help="Play every desk with scripted policies (the only mode of this command).")
@click.option("--seed", type=int, default=None, help="Random seed (default: the scenario's).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--database", default=None, metavar="URL",
              help="Run in this database (default: a new SQLite file in a temporary folder, "
                   "removed afterwards; the centre's database is never touched).")
@click.option("--step", type=click.FloatRange(min=0.05, max=60), default=1.0,
              show_default=True, help="Minutes of scenario time per step.")
@click.option("--lanes", type=click.IntRange(min=1, max=100), default=6, show_default=True,
              help="Reception lanes per site.")
def drill_run(file, headless, seed, as_json, database, step, lanes):
    """Play a scenario file (or a shipped scenario by name) headless and print its metrics."""
    from dvc.drills import headless as engine
    from dvc.drills import metrics
    from dvc.drills.operations import read_scenario
    from dvc.drills.scenario import check_text
    try:
        text = read_scenario(file)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    errors = [p for p in check_text(text, base=_base(file),
                                    skills=tuple(current_app.config["SKILLS"]))
              if p.severity == "error"]
    if errors:
        for problem in errors:
            click.echo(f"{file}:{problem}", err=True)
        raise click.ClickException(f"{file} has {len(errors)} error(s): run `drill check`")
    policy = engine.Policy(step=timedelta(minutes=step), lanes=lanes)
    try:
        with engine.throwaway_app(database, SECRET_KEY=current_app.config["SECRET_KEY"]):
            result = engine.run_headless(text, seed=seed, policy=policy)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    except (ArgumentError, OperationalError) as error:
        raise click.ClickException(f"cannot use the database {database or '(temporary)'}: "
                                   f"{getattr(error, 'orig', None) or error}") from None
    if as_json:
        click.echo(json.dumps(result.as_dict(policy), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.scenario} (seed {result.seed}), headless to "
               f"{result.end.isoformat()}: {result.counts['arrivals']} arrivals, "
               f"{result.counts['needs']} needs, {result.counts['events']} events")
    for line in metrics.report_lines(result.metrics, result.ratings):
        click.echo(line)


def _base(file: str):
    """Where a scenario's relative file names are read from: beside the file (or drills/)."""
    from pathlib import Path

    from dvc.drills.operations import DRILLS_DIR
    path = Path(file)
    return path.parent if path.suffix else DRILLS_DIR


@drill_cli.command("export")
@click.argument("operation_id", type=int)
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Service day to record (default: the last day with check-ins).")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write the scenario (default: standard output).")
def drill_export(operation_id, day, output):
    """Record a day of any operation as a scenario file (fictional names, moved points)."""
    from dvc.drills.record import export_scenario
    from dvc.operations.operations import get_operation
    try:
        output.write(export_scenario(get_operation(operation_id), day.date() if day else None))
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None

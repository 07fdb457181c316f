"""flask --app dvc tls init | tiles import | tiles status, and the HTTPS side of `serve`."""
from __future__ import annotations

import socket
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from dvc.core.clock import wall_now
from dvc.deploy import tls

tls_cli = AppGroup("tls", help="HTTPS on the local network: a local CA and the laptop's "
                               "certificate.")
tiles_cli = AppGroup("tiles", help="The offline basemap: a tile archive (MBTiles or PMTiles).")


def tls_dir(app: Flask | None = None) -> Path:
    """Return where the CA and the server certificate live (instance/tls unless TLS_DIR)."""
    app = app or current_app
    return Path(app.config.get("TLS_DIR") or Path(app.instance_path) / "tls")


def ensure_tls(app: Flask, names=(), ips=()) -> tls.TlsState:
    """Create the CA if needed and reissue the server certificate if the addresses changed."""
    folder = tls_dir(app)
    saved_names, saved_ips = tls.saved_extras(folder)
    names, ips = [*saved_names, *names], [*saved_ips, *ips]
    subjects = tls.default_subjects(names, ips)
    state = tls.ensure_certificates(folder, subjects, wall_now(),
                                    label=socket.gethostname().split(".")[0])
    tls.save_extras(folder, names, ips)
    return state


def _echo_state(state: tls.TlsState, folder: Path) -> None:
    if state.ca_created:
        click.echo(f"created a new certificate authority in {folder}")
    else:
        click.echo(f"kept the certificate authority in {folder} (tablets that trust it still do)")
    click.echo(f"CA fingerprint (SHA-256): {state.ca_fingerprint}")
    if state.server_issued:
        click.echo(f"issued the server certificate ({state.reason}), valid until "
                   f"{state.server_not_after:%Y-%m-%d}")
    else:
        click.echo(f"the server certificate is up to date, valid until "
                   f"{state.server_not_after:%Y-%m-%d}")
    click.echo("  names: " + ", ".join(state.subjects.dns))
    click.echo("  addresses: " + ", ".join(state.subjects.ips))


@tls_cli.command("init")
@click.option("--name", "names", multiple=True,
              help="Another DNS name for the laptop (repeatable).")
@click.option("--ip", "ips", multiple=True,
              help="Another IP address for the laptop (repeatable).")
def tls_init(names, ips):
    """Create the local CA (once) and the laptop's server certificate (again when addresses
    change); the key files are readable by their owner only."""
    try:
        state = ensure_tls(current_app, names, ips)
    except (tls.TlsError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    _echo_state(state, tls_dir())
    click.echo("next: flask --app dvc serve --https, then open /ca on each tablet")


def https_urls(state: tls.TlsState, port: int) -> list[str]:
    """Return the addresses tablets can use, LAN addresses and .local names first."""
    ips = [a for a in state.subjects.ips if not a.startswith("127.") and ":" not in a]
    names = [n for n in state.subjects.dns if n.endswith(".local")]
    return [f"https://{h}:{port}/" for h in (*ips, *names)]


def prepare_https(app: Flask, port: int) -> Path:
    """Make sure the certificates fit this laptop now, say where to connect, and mark cookies
    secure; return the TLS folder for the server."""
    try:
        state = ensure_tls(app)
    except (tls.TlsError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    _echo_state(state, tls_dir(app))
    app.config["SESSION_COOKIE_SECURE"] = True
    urls = https_urls(state, port)
    click.echo(f"dvc is running: https://127.0.0.1:{port}/")
    for url in urls:
        click.echo(f"  on the local network: {url}")
    first = urls[0] if urls else f"https://127.0.0.1:{port}/"
    click.echo(f"  each tablet trusts the laptop once, from {first}ca")
    return tls_dir(app)


@tiles_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="File name to keep it under in instance/tiles/.")
def tiles_import(file, name):
    """Copy a tile archive (.mbtiles or .pmtiles) into instance/tiles/ and make it the map's
    basemap (restart `serve` to use it)."""
    from dvc.maps import archive
    try:
        info = archive.import_archive(file, Path(current_app.instance_path), name=name)
    except archive.ArchiveError as err:
        raise click.ClickException(err.message) from None
    current_app.config.update(archive.read_active(Path(current_app.instance_path)))
    click.echo(f"imported {info.path.name}: {info.kind}, {info.format} tiles, "
               f"zoom {info.min_zoom}-{info.max_zoom}")
    click.echo(f"the map's basemap is now {info.path} (restart the server to use it)")


@tiles_cli.command("status")
def tiles_status():
    """Say which tile archive the map uses."""
    from dvc.maps import archive
    path = archive.configured_path(current_app)
    if path is None:
        click.echo("no tile archive: the map uses MAP_TILE_URL "
                   f"({current_app.config.get('MAP_TILE_URL') or 'none'})")
        return
    try:
        info = archive.open_archive(path).info
    except archive.ArchiveError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"tile archive {path}: {info.kind}, {info.format} tiles, "
               f"zoom {info.min_zoom}-{info.max_zoom}")


def init_app(app: Flask) -> None:
    for command in (tls_cli, tiles_cli):
        app.cli.add_command(command)

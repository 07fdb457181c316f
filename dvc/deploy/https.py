"""Serve the app over HTTPS with cheroot: pure Python like waitress (which has no TLS)."""
from __future__ import annotations

from pathlib import Path

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from dvc.deploy import tls


def make_server(app, host: str, port: int, tls_dir: Path, threads: int = 8) -> wsgi.Server:
    """Return a cheroot server for `app` with the laptop's certificate (not yet listening)."""
    server = wsgi.Server((host, port), app, numthreads=threads, server_name="dvc")
    server.ssl_adapter = BuiltinSSLAdapter(str(Path(tls_dir) / tls.SERVER_CERT),
                                           str(Path(tls_dir) / tls.SERVER_KEY))
    return server


def serve(app, host: str, port: int, tls_dir: Path, threads: int = 8) -> None:
    """Serve until interrupted (Ctrl+C)."""
    server = make_server(app, host, port, tls_dir, threads)
    try:
        server.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

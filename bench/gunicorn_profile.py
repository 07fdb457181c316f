"""gunicorn config used by `bench/checkin.py --profile DIR`: cProfile every request.

cProfile follows one thread, so each thread of a worker gets its own profiler, switched on only
while it serves a request; when a worker exits its profiles are merged into
DIR/worker-<pid>.prof (read them with `python -m pstats`).
"""
import cProfile
import os
import pstats
import threading
from pathlib import Path

_local = threading.local()
_profiles: list[cProfile.Profile] = []


def post_worker_init(worker):
    app = worker.wsgi

    def profiled(environ, start_response):
        prof = getattr(_local, "prof", None)
        if prof is None:
            prof = _local.prof = cProfile.Profile()
            _profiles.append(prof)
        prof.enable()
        try:
            result = app(environ, start_response)
            body = list(result)
            if hasattr(result, "close"):
                result.close()
            return body
        finally:
            prof.disable()

    worker.wsgi = profiled


def worker_exit(server, worker):
    if not _profiles:
        return
    out = Path(os.environ["DVC_BENCH_PROFILE_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    stats = pstats.Stats(_profiles[0])
    for prof in _profiles[1:]:
        stats.add(prof)
    stats.dump_stats(str(out / f"worker-{os.getpid()}.prof"))

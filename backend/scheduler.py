"""`python -m backend.scheduler`: fires the schedules (nightly clean-up, reminder sweep) onto BROKER_URL.

It never runs a job itself. A second one started by mistake fires nothing twice: each
fire is claimed in the `schedules` table first (backend/jobs/schedules.py). Health:
`GET /health` on --health-port answers 200 while its ticks reach the database.
"""

import argparse
import logging
import sys
from datetime import timedelta

from backend.jobs.events import JobMetrics
from backend.jobs.health import HealthServer
from backend.jobs.process import common_options, load_jobs, start_process
from backend.jobs.queue import build_job_queue
from backend.jobs.registry import SWEEP_EVERY, default_schedules
from backend.jobs.schedules import TICK_SECONDS, Scheduler

logger = logging.getLogger("backend.scheduler")
HEALTH_PORT = 9001


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.scheduler", description=__doc__)
    common_options(parser, health_port=HEALTH_PORT)
    parser.add_argument("--tick", type=float, default=TICK_SECONDS, help="seconds between passes")
    parser.add_argument(
        "--sweep-seconds", type=float, default=SWEEP_EVERY.total_seconds(), help="reminder sweep interval"
    )
    args = parser.parse_args(argv)
    process = start_process("scheduler", logger)
    if process is None:
        return 2
    settings, db, registry, stop = process.settings, process.db, process.registry, process.stop
    queue = build_job_queue(
        settings, jobs=load_jobs(args.jobs), context=None, metrics=JobMetrics(registry), queue_name=args.queue
    )
    schedules = default_schedules(settings, sweep_every=timedelta(seconds=args.sweep_seconds))
    scheduler = Scheduler(db=db, queue=queue, schedules=schedules, tracing=process.tracing)
    health = HealthServer(args.health_host, args.health_port, lambda: scheduler.healthy(args.tick), registry).start()
    logger.info("scheduler started", extra={"schedules": [s.spec for s in schedules], "health_port": health.port})
    scheduler.run(stop, args.tick)
    health.stop()
    queue.stop()
    process.close()
    logger.info("scheduler stopped", extra={"fired": scheduler.fired, "lost": scheduler.lost})
    return 0


if __name__ == "__main__":
    sys.exit(main())

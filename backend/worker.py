"""`python -m backend.worker`: runs jobs from BROKER_URL (Redis or RabbitMQ) until SIGTERM.

Health: `GET /health` on --health-port (200 while its threads run) and `/metrics` (the job
counters of this process). Scale out by running more of them; each takes jobs as it is free.
"""

import argparse
import logging
import sys

from backend.jobs.events import JobMetrics
from backend.jobs.health import HealthServer
from backend.jobs.process import common_options, load_jobs, start_process
from backend.jobs.queue import MIN_BACKOFF_MS, STOP_TIMEOUT_MS, JobContext, build_job_queue
from backend.realtime.relay import redis_publisher
from backend.services.mail import build_mailer

logger = logging.getLogger("backend.worker")
HEALTH_PORT = 9000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.worker", description=__doc__)
    common_options(parser, health_port=HEALTH_PORT)
    parser.add_argument("--threads", type=int, default=2, help="jobs run at once (default: %(default)s)")
    parser.add_argument("--min-backoff-ms", type=int, default=MIN_BACKOFF_MS, help="first retry's delay")
    parser.add_argument("--stop-timeout-ms", type=int, default=STOP_TIMEOUT_MS, help="grace for running jobs")
    args = parser.parse_args(argv)
    process = start_process("worker", logger)
    if process is None:
        return 2
    settings, db, registry, stop = process.settings, process.db, process.registry, process.stop
    if settings.REDIS_URL:  # what jobs change (reminders going off) reaches the apps' open sockets
        db.publisher = redis_publisher(settings.REDIS_URL)
    queue = build_job_queue(
        settings,
        jobs=load_jobs(args.jobs),
        context=JobContext(settings=settings, db=db, mailer=build_mailer(settings), tracing=process.tracing),
        metrics=JobMetrics(registry),
        queue_name=args.queue,
        min_backoff_ms=args.min_backoff_ms,
    )
    queue.start(args.threads)
    health = HealthServer(args.health_host, args.health_port, queue.worker_alive, registry).start()
    logger.info("worker started", extra={"queue": args.queue, "threads": args.threads, "health_port": health.port})
    stop.wait()
    logger.info("worker stopping")
    health.stop()
    queue.stop(timeout_ms=args.stop_timeout_ms)
    process.close()
    logger.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The jobs every process declares, and the schedules that fire them.

A job here is a thin adapter: it turns JSON arguments into a call of a `services`
function, which holds the rules. Add a job to `DEFAULT_JOBS` so that the app, the
scheduler and every worker declare it under the same name.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from backend.core.config import Settings
from backend.jobs.queue import Job, JobContext
from backend.jobs.schedules import ScheduleSpec
from backend.services import cleanup as cleanup_service
from backend.services import password_reset as password_reset_service
from backend.services import reminders

logger = logging.getLogger("backend.jobs")
# Reminders are due within 60 s of remind_at (issue 10): a sweep every 15 s leaves room
# for a retry or a slow worker.
SWEEP_EVERY = timedelta(seconds=15)


def nightly_cleanup(ctx: JobContext, *, fire_at: str) -> None:
    """Delete expired rows of every kind (services/cleanup.py); safe to run twice."""
    logger.info("nightly clean-up", extra={"fire_at": fire_at})
    cleanup_service.run(ctx.db, now=ctx.clock(), settings=ctx.settings)


def reminder_sweep(ctx: JobContext, *, fire_at: str) -> None:
    """Claim the due reminders (services/reminders.py) and send each through its own job.

    Claims are written before the jobs are sent; a job that never arrives (a broker down)
    leaves a claim that goes stale and is claimed again by a later sweep."""
    now = ctx.clock()
    max_late = timedelta(hours=ctx.settings.REMINDER_MAX_LATE_HOURS)
    while True:
        token, ids = ctx.db.call(partial(reminders.claim_due, now=now, max_late=max_late), write=True)
        for todo_id in ids:
            ctx.enqueue(send_reminder, todo_id=todo_id, token=token)
        if len(ids) < reminders.BATCH_SIZE:
            break
    late = now - datetime.fromisoformat(fire_at)
    logger.debug("reminder sweep", extra={"fire_at": fire_at, "late_ms": round(late.total_seconds() * 1000)})


def send_reminder(ctx: JobContext, *, todo_id: int, token: str) -> None:
    """Mail one claimed reminder, then stamp it sent. Nothing when the claim is no longer
    ours (sent, completed, deleted or re-timed meanwhile); SMTP errors raise, so it is retried."""
    reminder = ctx.db.call(partial(reminders.claimed, todo_id=todo_id, token=token), write=False)
    if reminder is None:
        return
    ctx.mailer.send(reminders.reminder_email(reminder, public_url=ctx.settings.PUBLIC_URL))
    ctx.db.call(partial(reminders.mark_sent, reminder=reminder, token=token, now=ctx.clock()), write=True)
    logger.info(
        "reminder sent",
        extra={"todo_id": todo_id, "late_s": round((ctx.clock() - reminder.remind_at).total_seconds(), 1)},
    )


def send_password_reset(ctx: JobContext, *, address: str, link: str) -> None:
    """Mail a reset link if `address` has an active account (services/password_reset.py).
    A retry after a mail failure sends a fresh link; an unknown address sends nothing."""
    email = ctx.db.call(
        partial(password_reset_service.reset_email, address=address, settings=ctx.settings, link=link),
        write=False,
    )
    if email is not None:
        ctx.mailer.send(email)


DEFAULT_JOBS: tuple[Job[...], ...] = (nightly_cleanup, reminder_sweep, send_reminder, send_password_reset)


def default_schedules(settings: Settings, *, sweep_every: timedelta = SWEEP_EVERY) -> tuple[ScheduleSpec, ...]:
    """The nightly clean-up at CLEANUP_CRON (UTC) and the reminder sweep."""
    return (
        ScheduleSpec("nightly_cleanup", nightly_cleanup, cron=settings.CLEANUP_CRON),
        ScheduleSpec("reminder_sweep", reminder_sweep, every=sweep_every),
    )

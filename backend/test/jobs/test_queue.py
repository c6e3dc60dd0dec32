"""The job queue on the in-memory broker: runs, retries with backoff, failures, metrics, after-commit sends."""

import logging
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from backend.jobs.events import JobMetrics, NoMessageArgs, describe_error, register_job_metrics
from backend.jobs.queue import JobContext, UnknownJob, build_job_queue, enqueue_after_commit
from backend.test.conftest import build_settings
from backend.test.jobs.conftest import QueueFactory
from backend.test.jobs.helpers import captured, lines, record

SECRET = "reset-token-0123456789abcdef"


class Calls:
    """What the jobs of one test saw, and when; failing a chosen number of times first."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.seen: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    def __call__(self, ctx: JobContext, *, value: str) -> None:
        with self.lock:
            self.seen.append((value, time.monotonic()))
            attempt = len(self.seen)
        if attempt <= self.failures:
            raise RuntimeError(f"attempt {attempt} failed")


def make_job(calls: Calls, name: str) -> "Calls":
    calls.__name__ = name  # type: ignore[attr-defined]
    return calls


class TestEnqueue:
    def test_the_job_runs_off_the_calling_thread_with_its_arguments(
        self, queue_factory: QueueFactory, tmp_path: Path
    ) -> None:
        queue = queue_factory(record)
        path = tmp_path / "out.txt"

        queue.enqueue(record, path=str(path), key="one")
        queue.join()

        assert lines(path) == ["one"]

    def test_an_unregistered_function_is_refused(self, queue_factory: QueueFactory) -> None:
        queue = queue_factory()

        with pytest.raises(UnknownJob):
            queue.enqueue(record, path="x", key="y")

    def test_two_jobs_of_one_name_are_refused(self, queue_factory: QueueFactory) -> None:
        with pytest.raises(ValueError, match="two jobs"):
            queue_factory(record, record)

    def test_enqueued_and_done_are_counted(
        self, queue_factory: QueueFactory, metrics: JobMetrics, tmp_path: Path
    ) -> None:
        queue = queue_factory(record)

        for n in range(3):
            queue.enqueue(record, path=str(tmp_path / "out.txt"), key=str(n))
        queue.join()

        assert (metrics.value("enqueued", "record"), metrics.value("done", "record")) == (3, 3)
        assert metrics.value("failed", "record") == metrics.value("retried", "record") == 0

    def test_without_worker_threads_nothing_runs(self, queue_factory: QueueFactory, tmp_path: Path) -> None:
        queue = queue_factory(record, start=False)

        queue.enqueue(record, path=str(tmp_path / "out.txt"), key="x")

        assert not queue.worker_alive()
        assert lines(tmp_path / "out.txt") == []


class TestRetries:
    def test_a_job_that_fails_twice_is_retried_and_done(self, queue_factory: QueueFactory, metrics: JobMetrics) -> None:
        job = make_job(Calls(failures=2), "flaky")
        queue = queue_factory(job)

        queue.enqueue(job, value="v")
        queue.join()

        assert [value for value, _ in job.seen] == ["v", "v", "v"]
        assert metrics.value("retried", "flaky") == 2
        assert metrics.value("done", "flaky") == 1
        assert metrics.value("failed", "flaky") == 0

    def test_the_backoff_grows_exponentially(self, queue_factory: QueueFactory) -> None:
        job = make_job(Calls(failures=3), "slow_to_work")
        # dramatiq waits between half and all of min_backoff * 2**attempt: 100-200, 200-400, 400-800 ms.
        queue = queue_factory(job, min_backoff_ms=200)

        queue.enqueue(job, value="v")
        queue.join()

        times = [moment for _, moment in job.seen]
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert len(gaps) == 3
        assert gaps[0] >= 0.09 and gaps[2] >= 0.39
        assert gaps[2] > gaps[0]

    def test_a_job_that_keeps_failing_stops_after_job_max_retries_and_is_logged_and_counted(
        self, queue_factory: QueueFactory, metrics: JobMetrics
    ) -> None:
        job = make_job(Calls(failures=100), "hopeless")
        queue = queue_factory(job)  # JOB_MAX_RETRIES=3

        with captured("backend.jobs") as log:
            queue.enqueue(job, value=SECRET)
            queue.join()

        assert len(job.seen) == 4  # the first run and 3 retries
        assert metrics.value("failed", "hopeless") == 1
        assert metrics.value("retried", "hopeless") == 3
        final = [record for record in log.records if record.getMessage() == "job failed for good"]
        assert len(final) == 1
        assert final[0].levelno == logging.ERROR
        assert final[0].__dict__["error"] == "RuntimeError: attempt 4 failed"
        assert final[0].__dict__["attempts"] == 4
        assert all(SECRET not in str(record.__dict__) for record in log.records)

    def test_job_max_retries_zero_means_one_run(self, queue_factory: QueueFactory, metrics: JobMetrics) -> None:
        job = make_job(Calls(failures=1), "once")
        queue = queue_factory(job, settings=build_settings("sqlite://", JOB_MAX_RETRIES=0))

        queue.enqueue(job, value="v")
        queue.join()

        assert len(job.seen) == 1
        assert metrics.value("failed", "once") == 1


class TestLogging:
    def test_dramatiqs_lines_show_message_ids_not_arguments(self, queue_factory: QueueFactory) -> None:
        job = make_job(Calls(failures=100), "leaky")
        queue = queue_factory(job, settings=build_settings("sqlite://", JOB_MAX_RETRIES=0))

        with captured("dramatiq") as log:
            queue.enqueue(job, value=SECRET)
            queue.join()

        shown = [record for record in log.records if NoMessageArgs().filter(record)]
        assert shown, "dramatiq said nothing at all"
        assert all(SECRET not in record.getMessage() for record in shown)
        assert not any(record.getMessage().startswith("Failed to process message") for record in shown)

    def test_describe_error_is_short(self) -> None:
        assert describe_error(ValueError("x" * 1000)) == "ValueError: " + "x" * 300
        assert describe_error(KeyError()) == "KeyError"


class TestMetrics:
    def test_each_registry_gets_its_own_counters(self) -> None:
        first, second = CollectorRegistry(), CollectorRegistry()

        one, two = register_job_metrics(first), register_job_metrics(second)
        one.done.labels("x").inc()

        assert (one.value("done", "x"), two.value("done", "x")) == (1, 0)


class TestBrokerChoice:
    def test_no_broker_url_is_embedded(self, queue_factory: QueueFactory) -> None:
        assert queue_factory(start=False).embedded

    def test_an_unknown_scheme_is_refused(self) -> None:
        settings = build_settings("sqlite://", BROKER_URL="kafka://localhost")

        with pytest.raises(ValueError, match="BROKER_URL"):
            build_job_queue(settings, jobs=[], context=None)

    def test_a_broker_that_is_down_is_logged_and_counted_not_raised(self, metrics: JobMetrics) -> None:
        settings = build_settings("sqlite://", BROKER_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
        queue = build_job_queue(settings, jobs=[record], context=None, metrics=metrics)

        with captured("backend.jobs") as log:
            sent = queue.enqueue_or_log(record, path="x", key="y")

        assert sent is None
        assert metrics.value("failed", "record") == 1
        assert "job could not be enqueued" in log.messages()
        queue.stop()

    def test_a_job_reaching_a_send_only_process_fails(self, metrics: JobMetrics) -> None:
        settings = build_settings("sqlite://", JOB_MAX_RETRIES=0)
        queue = build_job_queue(settings, jobs=[record], context=None, metrics=metrics)
        queue.start()

        queue.enqueue(record, path="x", key="y")
        queue.join()
        queue.stop()

        assert metrics.value("failed", "record") == 1


class TestEnqueueAfterCommit:
    def test_sent_once_the_transaction_commits(
        self, queue_factory: QueueFactory, engine: Engine, tmp_path: Path
    ) -> None:
        queue = queue_factory(record)
        path = tmp_path / "out.txt"

        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            enqueue_after_commit(session, queue, record, path=str(path), key="committed")
            queue.join()
            before = lines(path)
            session.commit()
        queue.join()

        assert before == []
        assert lines(path) == ["committed"]

    def test_nothing_is_sent_when_it_rolls_back(
        self, queue_factory: QueueFactory, engine: Engine, tmp_path: Path
    ) -> None:
        queue = queue_factory(record)
        path = tmp_path / "out.txt"

        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            enqueue_after_commit(session, queue, record, path=str(path), key="rolled-back")
            session.rollback()
            session.execute(text("SELECT 1"))
            enqueue_after_commit(session, queue, record, path=str(path), key="next")
            session.commit()
            session.commit()  # a later commit sends nothing again
        queue.join()

        assert Counter(lines(path)) == {"next": 1}

"""Real `python -m backend.worker` and `python -m backend.scheduler` processes on Redis and on RabbitMQ.

Each test gets a queue of its own (deleted afterwards), so nothing left on a broker by
another run reaches it. The jobs of `helpers.LIVE_JOBS` write one line per run to a file;
the workers' `/metrics` count what they did; the schedulers' JSON logs say what they fired.
"""

import json
import os
import signal
import socket
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pika  # type: ignore[import-untyped]
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select

from backend.core.config import Settings
from backend.jobs.process import load_jobs
from backend.jobs.queue import JobQueue, build_job_queue
from backend.models import Schedule
from backend.test.conftest import build_settings, live_env
from backend.test.jobs.helpers import lines, record, slow_record
from backend.test.live import PORT, LiveServer, wait_until

BROKERS = {
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
}
LIVE_JOBS = "backend.test.jobs.helpers:LIVE_JOBS"
WAIT = 20.0

pytestmark = pytest.mark.usefixtures("no_schedules")


@dataclass
class LiveBroker:
    name: str
    url: str
    queue: str


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


def delete_queue(broker: LiveBroker) -> None:
    """Whatever the run left on the broker under this test's queue name."""
    if broker.name == "redis":
        client = redis.Redis.from_url(broker.url)
        keys = list(client.scan_iter(f"dramatiq:*{broker.queue}*"))
        if keys:
            client.delete(*keys)
        client.close()
        return
    connection = pika.BlockingConnection(pika.URLParameters(broker.url))
    channel = connection.channel()
    for name in (broker.queue, f"{broker.queue}.DQ", f"{broker.queue}.XQ"):
        channel.queue_delete(name)
    connection.close()


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Iterator[LiveBroker]:
    name: str = request.param
    url = BROKERS[name]
    if not reachable(url):
        message = f"{name} is not running at {url}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    live = LiveBroker(name, url, f"test_{uuid.uuid4().hex[:12]}")
    yield live
    delete_queue(live)


@pytest.fixture
def producer(broker: LiveBroker, settings: Settings) -> Iterator[JobQueue]:
    """The test's own send-only queue on the broker (what the app is in the scaled-out set-up)."""
    queue = build_job_queue(
        build_settings(settings.DATABASE_URL, BROKER_URL=broker.url),
        jobs=load_jobs([LIVE_JOBS]),
        context=None,
        queue_name=broker.queue,
    )
    yield queue
    queue.stop()


ProcessFactory = Callable[..., LiveServer]


@pytest.fixture
def processes(broker: LiveBroker, settings: Settings, tmp_path: Path) -> Iterator[ProcessFactory]:
    """Start workers and schedulers on the broker and the test database; all stopped at the end."""
    env = live_env(settings, BROKER_URL=broker.url, LOG_LEVEL="INFO", CLEANUP_CRON="* * * * * *")
    count = Counter[str]()

    with ExitStack() as stack:

        def start(kind: str, *args: str, wait: bool = True, extra_env: dict[str, str] | None = None) -> LiveServer:
            count[kind] += 1
            name = f"{kind}-{count[kind]}"
            command = [sys.executable, "-m", f"backend.{kind}", "--queue", broker.queue]
            command += ["--health-host", "127.0.0.1", "--health-port", PORT, *args]
            server = LiveServer(
                name, command, env={**env, **(extra_env or {})}, log_path=tmp_path / f"{name}.log", startup_timeout=30
            )
            server.start(wait=wait)  # not waiting: the caller starts several, then waits for each
            return stack.enter_context(server)

        yield start


def worker(start: ProcessFactory, *args: str, wait: bool = True) -> LiveServer:
    return start("worker", "--threads", "1", "--jobs", LIVE_JOBS, *args, wait=wait)


def scheduler(start: ProcessFactory, wait: bool = True) -> LiveServer:
    return start("scheduler", "--tick", "0.05", "--sweep-seconds", "0.25", wait=wait)


def done(server: LiveServer, job: str) -> float:
    """jobs_done_total{job=…} of one worker process."""
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "jobs_done_total" and sample.labels.get("job") == job:
                return float(sample.value)
    return 0.0


def fires(server: LiveServer) -> list[tuple[str, str]]:
    """(schedule, fire_at) of every fire a scheduler logged."""
    found = []
    for line in server.output().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("message") == "schedule fired":
            found.append((entry["schedule"], entry["fire_at"]))
    return found


def finished(path: Path) -> list[str]:
    return [key for key in lines(path) if not key.startswith("start-")]


class TestWorkers:
    def test_two_workers_share_the_jobs_and_run_each_once(
        self, processes: ProcessFactory, producer: JobQueue, tmp_path: Path
    ) -> None:
        out = tmp_path / "runs.txt"
        first, second = worker(processes), worker(processes)
        keys = {f"job{n}" for n in range(16)}

        for key in sorted(keys):
            producer.enqueue(slow_record, path=str(out), key=key, seconds=0.1)
        wait_until(lambda: set(finished(out)) == keys, timeout=WAIT, what="every job done")
        wait_until(
            lambda: done(first, "slow_record") + done(second, "slow_record") == len(keys),
            timeout=WAIT,
            what="the workers' counters",
        )

        assert Counter(finished(out)) == dict.fromkeys(keys, 1)
        pids = {line.split()[1] for line in out.read_text().splitlines() if not line.startswith("start-")}
        assert pids == {str(first.pid), str(second.pid)}

    def test_jobs_survive_a_worker_restart(self, processes: ProcessFactory, producer: JobQueue, tmp_path: Path) -> None:
        out = tmp_path / "runs.txt"
        first = worker(processes)
        producer.enqueue(slow_record, path=str(out), key="in-flight", seconds=1.0)
        wait_until(lambda: "start-in-flight" in lines(out), timeout=WAIT, what="the slow job to start")

        first.stop()  # SIGTERM while the job runs: the worker lets it finish
        assert first.popen.returncode == 0, first.tail()
        for n in range(5):
            producer.enqueue(record, path=str(out), key=f"while-down-{n}")
        second = worker(processes)
        expected = {"in-flight", *(f"while-down-{n}" for n in range(5))}
        wait_until(lambda: set(finished(out)) == expected, timeout=WAIT, what="the jobs sent while it was down")

        assert Counter(finished(out)) == dict.fromkeys(expected, 1)
        assert done(second, "record") == 5

    def test_a_job_whose_worker_was_killed_runs_again_on_the_next_one(
        self, broker: LiveBroker, processes: ProcessFactory, producer: JobQueue, tmp_path: Path
    ) -> None:
        if broker.name == "redis":
            pytest.skip("Redis requeues a dead worker's unacknowledged jobs only after a 60 s heartbeat timeout")
        out = tmp_path / "runs.txt"
        first = worker(processes)
        producer.enqueue(slow_record, path=str(out), key="killed", seconds=1.0)
        wait_until(lambda: "start-killed" in lines(out), timeout=WAIT, what="the slow job to start")

        first.send(signal.SIGKILL)
        first.wait(timeout=WAIT)
        second = worker(processes)
        wait_until(lambda: finished(out) == ["killed"], timeout=WAIT, what="the job to run again")

        assert lines(out).count("start-killed") == 2  # at least once: the reason jobs must be idempotent
        assert done(second, "slow_record") == 1


class TestSchedulers:
    def test_two_schedulers_fire_each_slot_once_and_two_workers_run_it_once(
        self, processes: ProcessFactory, engine: Engine
    ) -> None:
        workers = [worker(processes, wait=False), worker(processes, wait=False)]
        schedulers = [scheduler(processes, wait=False), scheduler(processes, wait=False)]
        for process in (*workers, *schedulers):
            process.wait_ready()

        both_up = datetime.now(UTC).isoformat()

        def all_fires() -> list[tuple[str, str]]:
            return [fire for s in schedulers for fire in fires(s)]

        # Which scheduler wins a slot is a race: wait until each has won at least one.
        wait_until(
            lambda: (
                sum(name == "reminder_sweep" and at > both_up for name, at in all_fires()) >= 8
                and all(fires(s) for s in schedulers)
            ),
            timeout=WAIT,
            what="eight sweeps (2 s) with both schedulers up, each firing some",
        )
        for s in schedulers:
            s.stop()
        fired = all_fires()
        per_schedule = Counter(name for name, _ in fired)
        wait_until(
            lambda: all(sum(done(w, name) for w in workers) == n for name, n in per_schedule.items()),
            timeout=WAIT,
            what="the workers to run every fired job",
        )

        assert len(set(fired)) == len(fired), "a slot was fired twice"
        assert per_schedule["nightly_cleanup"] >= 2
        with engine.connect() as conn:
            versions = dict(conn.execute(select(Schedule.name, Schedule.version)).all())
        assert versions == dict(per_schedule)
        assert [s.popen.returncode for s in schedulers] == [0, 0], [s.tail() for s in schedulers]

    def test_a_scheduler_answers_health_and_refuses_to_start_without_a_broker(
        self, processes: ProcessFactory, settings: Settings, tmp_path: Path
    ) -> None:
        running = scheduler(processes)
        assert httpx.get(f"{running.url}/health", timeout=5).json() == {"status": "ok"}

        env = live_env(settings, BROKER_URL="")
        alone = LiveServer("lonely", [sys.executable, "-m", "backend.scheduler"], env=env, log_path=tmp_path / "x.log")
        alone.start(wait=False)
        assert alone.wait(timeout=WAIT) == 2
        assert "BROKER_URL is not set" in alone.output()

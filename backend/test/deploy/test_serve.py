"""backend/scripts/serve.sh: several workers, /metrics summed over them, proxy headers
only from FORWARDED_ALLOW_IPS, graceful shutdown; and the image's HEALTHCHECK command."""

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from backend.core.metrics import recorded_files
from backend.test.live import free_port, wait_until

from .processes import (
    METRICS_AUTH,
    REPO_ROOT,
    SERVE_SCRIPT,
    AppProcess,
    Launcher,
    clean_env,
    pids_started,
    request_id,
)

# The requests the metrics test counts. Not /health: the launcher's readiness poll asks for
# that, and the app counts a request after its response has gone out, so the poll's 200 can
# land in the count after the test has read it (as can a poll the client gave up on). No
# process the tests start asks for /health/live, so its count is the test's requests alone.
COUNTED = {"method": "GET", "route": "/health/live", "status": "200"}


def counted(families: object) -> float:
    """http_requests_total for the COUNTED labels in parsed metric families."""
    return sum(
        sample.value
        for family in families  # type: ignore[attr-defined]
        for sample in family.samples
        if sample.name == "http_requests_total" and all(sample.labels.get(k) == v for k, v in COUNTED.items())
    )


def per_worker_counts(directory: Path) -> dict[int, float]:
    """Each worker's own COUNTED count, read from its counter file alone."""
    counts = {}
    for path in map(Path, recorded_files(str(directory))):  # a worker's file is briefly empty
        if match := re.fullmatch(r"counter_(\d+)\.db", path.name):
            counts[int(match.group(1))] = counted(MultiProcessCollector.merge([str(path)], accumulate=True))  # type: ignore[no-untyped-call]
    return counts


def seed_stale_metrics(directory: Path) -> Path:
    """What a previous run would leave: a dead worker's file claiming 1000 COUNTED hits."""
    directory.mkdir(parents=True, exist_ok=True)
    labels = ", ".join(repr(COUNTED[key]) for key in ("method", "route", "status"))
    code = (
        "from prometheus_client import Counter\n"
        "Counter('http_requests', '', ['method', 'route', 'status'])"
        f".labels({labels}).inc(1000)\n"
    )
    env = clean_env(PROMETHEUS_MULTIPROC_DIR=str(directory))
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    (stale,) = directory.glob("counter_*.db")
    return stale


@pytest.fixture(scope="module")
def two_workers(module_launcher: Launcher, deploy_database: str) -> Iterator[tuple[AppProcess, Path]]:
    metrics_dir = module_launcher.workdir / "two-workers-metrics"
    stale = seed_stale_metrics(metrics_dir)
    settings = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    app = module_launcher.app("two-workers", database_url=deploy_database, workers=2, settings=settings)
    wait_until(lambda: len(pids_started(app.output())) == 2, timeout=30, what="two workers")
    assert not stale.exists(), "serve.sh empties the metrics directory before the workers start"
    yield app, metrics_dir


def test_metrics_are_summed_across_workers(two_workers: tuple[AppProcess, Path]) -> None:
    app, metrics_dir = two_workers
    assert sum(per_worker_counts(metrics_dir).values()) == 0  # the stale file's 1000 are gone
    sent = 0

    def hit(_: int) -> int:
        # A new connection each time, so the kernel hands them to both workers.
        return httpx.get(f"{app.url}{COUNTED['route']}", headers={"Connection": "close"}).status_code

    def both_served() -> bool:
        nonlocal sent
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(hit, range(16)))
        assert statuses == [200] * 16
        sent += 16
        return len([n for n in per_worker_counts(metrics_dir).values() if n > 0]) >= 2

    wait_until(both_served, timeout=60, interval=0, what="requests served by both workers")
    # A worker counts a request just after sending its response: wait until every request
    # sent is in the files. Nothing else asks for this route, so the counts then stay put
    # and an extra count (a request counted twice) still fails the equality below.
    wait_until(lambda: sum(per_worker_counts(metrics_dir).values()) >= sent, timeout=10, what="every request counted")
    workers = per_worker_counts(metrics_dir)
    scraped = httpx.get(f"{app.url}/metrics", headers=METRICS_AUTH)
    total = counted(text_string_to_metric_families(scraped.text))
    assert set(workers) <= set(pids_started(app.output()))
    assert total == sum(workers.values()) == sent, (total, workers, sent)
    assert len([n for n in workers.values() if n > 0]) == 2
    assert scraped.headers["content-type"].startswith("text/plain")


def test_forwarded_for_is_ignored_without_a_trusted_proxy(two_workers: tuple[AppProcess, Path]) -> None:
    # FORWARDED_ALLOW_IPS is unset: the app trusts no proxy. uvicorn's own proxy-header
    # handling, on by default and trusting 127.0.0.1, is switched off by serve.sh.
    app, _ = two_workers
    rid = request_id()
    httpx.get(f"{app.url}/health", headers={"X-Request-ID": rid, "X-Forwarded-For": "203.0.113.9"})
    entry = wait_until(lambda: app.access_entry(rid), timeout=10, what="the access-log line")
    assert entry["client"] == "127.0.0.1"


def test_access_log_is_the_apps_json_only(two_workers: tuple[AppProcess, Path]) -> None:
    app, _ = two_workers
    rid = request_id()
    httpx.get(f"{app.url}/health", headers={"X-Request-ID": rid})
    entry = wait_until(lambda: app.access_entry(rid), timeout=10, what="the access-log line")
    assert {"time", "request_id", "method", "route", "status", "duration_ms", "client"} <= set(entry)
    assert not re.search(r'"GET /health HTTP/1\.1" 200', app.output())  # no uvicorn access lines


def healthcheck_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK CMD, with this venv's python."""
    text = (REPO_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.MULTILINE)
    assert match, "Dockerfile has a HEALTHCHECK in exec form"
    command: list[str] = json.loads(match.group(1))
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def test_image_healthcheck_command(two_workers: tuple[AppProcess, Path]) -> None:
    app, _ = two_workers
    command = healthcheck_command()
    up = subprocess.run(command, env=clean_env(PORT=str(app.port)), capture_output=True, check=False, timeout=30)
    assert up.returncode == 0, up.stderr
    down = subprocess.run(command, env=clean_env(PORT=str(free_port())), capture_output=True, check=False, timeout=30)
    assert down.returncode != 0


def test_serve_sh_command_line(tmp_path: Path) -> None:
    """What serve.sh hands uvicorn (through backend/server.py), seen by a stand-in PYTHON."""
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho "dir=$PROMETHEUS_MULTIPROC_DIR"; ls "$PROMETHEUS_MULTIPROC_DIR"; echo "args=$*"\n')
    stub.chmod(0o755)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_text("stale")
    env = clean_env(PORT="8123", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), PYTHON=str(stub))
    result = subprocess.run(["bash", str(SERVE_SCRIPT)], env=env, capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == f"dir={metrics_dir}" and len(lines) == 2  # exported, and emptied
    args = lines[1].removeprefix("args=").split()
    assert args[:3] == ["-m", "backend.server", "backend.main:app"]
    options = dict(itertools.pairwise(args))  # each option with the word after it
    assert options["--host"] == "0.0.0.0" and options["--port"] == "8123"
    assert options["--workers"] == str(2 * len(os.sched_getaffinity(0)))  # WEB_CONCURRENCY unset
    assert int(options["--timeout-graceful-shutdown"]) > 0
    assert int(options["--timeout-keep-alive"]) > 60  # outlives nginx's upstream keepalive_timeout
    assert {"--no-proxy-headers", "--no-access-log"} <= set(args)


def test_sigterm_lets_the_request_in_flight_finish(two_workers: tuple[AppProcess, Path]) -> None:
    """Stops the module's server, so it is the module's last test."""
    app, _ = two_workers
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
        body = b"grant_type=password&username=nobody&password=wrong-password-1"
        head = (
            "POST /auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
        )
        sock.sendall(head.encode())
        # "100 Continue" comes when the route starts reading the body: the request is in flight.
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        app.send(signal.SIGTERM)
        wait_until(lambda: "Waiting for connections to close" in app.output(), timeout=15, what="shutdown to start")
        sock.sendall(body)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 401 Unauthorized"
    assert b"connection: close" in rest.lower()
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1]) == {"detail": "Incorrect username or password"}
    assert app.wait(timeout=20) == 0
    assert len(re.findall(r"Finished server process", app.output())) == 2

"""nginx (Debian's, running deploy/nginx/nginx.conf) in front of two app instances.

WebSockets (GET /ws) pass through to either instance; the two share Redis, so a socket
held by one hears changes made on the other.

The client reaches nginx from loopback addresses other than 127.0.0.1 (127.0.0.2, ...),
while nginx reaches the apps from 127.0.0.1, their only trusted proxy: so the address the
app sees tells the client, the proxy and a spoofed header apart.
"""

import gzip
import re
import shutil
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.core.static_files import STATIC_DIR
from backend.test.live import free_port, wait_until
from backend.test.socket_client import TlsSocket, cookie, is_open, next_message, open_tls_socket, refused_status

from .processes import (
    METRICS_AUTH,
    NGINX_CONF,
    PASSWORD,
    AppProcess,
    Launcher,
    Nginx,
    Tls,
    client,
    login,
    register_user,
    render_nginx_conf,
    request_id,
    unique_name,
)
from .services import redis_db

REDIS_DB = 12
VERSION = "0123456789ab"  # any 12-hex release segment: nginx strips it
PROBE = "css/deploy-probe.css"
SESSION_COOKIE = "__Host-session"  # the cookie's name in production
ACCEPTED = '"WebSocket /ws" [accepted]'  # uvicorn's line for an opened socket
CUT = "cut mid-answer"
PROBE_BODY = "".join(f".deploy-probe-{n} {{ color: #{n:06x}; }}\n" for n in range(200))


@dataclass
class Stack:
    nginx: Nginx
    apps: list[AppProcess]
    tls: Tls

    def served_by(self, rid: str) -> list[AppProcess]:
        """The instances whose access log has request `rid`."""
        return [app for app in self.apps if app.access_entry(rid)]

    def entry(self, rid: str) -> dict[str, object]:
        """The app's access-log line for `rid` (waits for it to be written)."""

        def find() -> dict[str, object] | None:
            return next((e for app in self.apps if (e := app.access_entry(rid))), None)

        return wait_until(find, timeout=10, what=f"an access-log line for {rid}")


def static_root(directory: Path) -> Path:
    """frontend/static plus a probe file the app does not have: a 200 for it is nginx's."""
    root = directory / "static"
    shutil.copytree(STATIC_DIR, root)
    (root / PROBE).parent.mkdir(parents=True, exist_ok=True)
    (root / PROBE).write_text(PROBE_BODY)
    return root


def start_stack(launcher: Launcher, nginx_bin: str, database_url: str, **settings: str) -> Stack:
    settings = {"FORWARDED_ALLOW_IPS": "127.0.0.1", **settings}
    apps = [launcher.app(f"app{n}", database_url=database_url, wait=False, settings=settings) for n in (1, 2)]
    for app in apps:
        app.wait_ready()
    workdir = launcher.workdir / "nginx"
    workdir.mkdir()
    tls = Tls(workdir)
    http_port, https_port = free_port(), free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(
        render_nginx_conf(
            NGINX_CONF.read_text(),
            workdir=workdir,
            upstream_ports=(apps[0].port, apps[1].port),
            http_port=http_port,
            https_port=https_port,
            static_root=static_root(workdir),
            tls=tls,
        )
    )
    nginx = Nginx(nginx_bin, conf, workdir, http_port, https_port)
    launcher.processes.append(nginx)

    def up() -> bool:
        if not nginx.alive():
            raise AssertionError(f"nginx exited:\n{nginx.output()}\n{nginx.error_log()}")
        try:
            with client(tls) as http:
                return http.get(f"{nginx.url}/health").status_code == 200
        except httpx.TransportError:
            return False

    wait_until(up, timeout=15, what="nginx to proxy /health")
    return Stack(nginx, apps, tls)


@pytest.fixture(scope="module")
def stack(module_launcher: Launcher, nginx_bin: str, deploy_database: str) -> Stack:
    return start_stack(
        module_launcher, nginx_bin, deploy_database, REDIS_URL=redis_db(REDIS_DB), RATE_LIMIT_LOGIN="3/minute"
    )


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with client(stack.tls, source="127.0.0.2") as http:
        yield http


def test_rendered_production_config_passes_nginx_t(stack: Stack) -> None:
    assert "syntax is ok" in stack.nginx.config_test
    assert "test is successful" in stack.nginx.config_test


class TestBalancing:
    def test_requests_succeed_and_reach_both_instances(self, stack: Stack, http: httpx.Client) -> None:
        rids = [request_id() for _ in range(20)]
        statuses = [http.get(f"{stack.nginx.url}/health", headers={"X-Request-ID": rid}).status_code for rid in rids]
        assert statuses == [200] * 20
        for rid in rids:
            stack.entry(rid)
        served = Counter(app.name for rid in rids for app in stack.served_by(rid))
        assert sum(served.values()) == 20  # each request reached exactly one instance
        assert set(served) == {"app1", "app2"}, served

    def test_plain_http_is_redirected_to_https(self, stack: Stack) -> None:
        with client() as http:
            response = http.get(f"{stack.nginx.http_url}/health")
        assert response.status_code == 301
        assert response.headers["location"] == "https://127.0.0.1/health"

    def test_forwarded_proto_and_host_reach_the_app(self, stack: Stack, http: httpx.Client) -> None:
        # The app's trailing-slash redirect is absolute: built from the scheme and host it saw.
        response = http.get(f"{stack.nginx.url}/user")
        assert response.status_code == 307
        assert response.headers["location"] == f"{stack.nginx.url}/user/"


class TestRequestId:
    def test_client_request_id_is_kept_end_to_end(self, stack: Stack, http: httpx.Client) -> None:
        rid = request_id()
        response = http.get(f"{stack.nginx.url}/health", headers={"X-Request-ID": rid})
        assert response.headers["x-request-id"] == rid
        assert stack.entry(rid)["request_id"] == rid

    def test_nginx_request_id_is_used_when_the_client_sends_none(self, stack: Stack, http: httpx.Client) -> None:
        response = http.get(f"{stack.nginx.url}/health")
        rid = response.headers["x-request-id"]
        stack.entry(rid)  # the app logged the id it answered with...
        logged = wait_until(
            lambda: [e for e in stack.nginx.access_entries() if e["request_id"] == rid],
            timeout=10,
            what="nginx's access-log line",
        )
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
        assert logged[0]["uri"] == "/health"  # ...and it is the one nginx made up


class TestClientAddress:
    def test_app_sees_the_real_client_not_a_spoofed_header(self, stack: Stack, http: httpx.Client) -> None:
        rid = request_id()
        http.get(f"{stack.nginx.url}/health", headers={"X-Request-ID": rid, "X-Forwarded-For": "203.0.113.66"})
        assert stack.entry(rid)["client"] == "127.0.0.2"

    def test_spoofed_forwarded_for_does_not_escape_the_login_throttle(self, stack: Stack, http: httpx.Client) -> None:
        username = unique_name("spoof")
        register_user(stack.apps[0].url, username)
        rids, statuses = [], []
        for n in range(1, 5):  # RATE_LIMIT_LOGIN is 3/minute per (client, username)
            rid = request_id()
            rids.append(rid)
            headers = {"X-Request-ID": rid, "X-Forwarded-For": f"198.51.100.{n}"}
            response = http.get(f"{stack.nginx.url}/login", auth=(username, "wrong-password-1"), headers=headers)
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429]
        assert "content-security-policy" in response.headers  # the app's 429, not nginx's
        assert int(response.headers["retry-after"]) > 0
        assert {str(stack.entry(rid)["client"]) for rid in rids} == {"127.0.0.2"}
        # Another real client is not caught by 127.0.0.2's failures.
        with client(stack.tls, source="127.0.0.4") as other:
            fresh = other.get(f"{stack.nginx.url}/login", auth=(username, PASSWORD))
        assert fresh.status_code == 200


class TestEdgeRules:
    def test_static_files_come_from_nginx_with_long_cache(self, stack: Stack, http: httpx.Client) -> None:
        assert not (STATIC_DIR / PROBE).exists()  # so only nginx can answer 200 for it
        response = http.get(f"{stack.nginx.url}/static/{VERSION}/{PROBE}", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.text == PROBE_BODY
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-type"].startswith("text/css")
        assert "x-request-id" not in response.headers  # never went through the app

    def test_unversioned_static_files_must_revalidate(self, stack: Stack, http: httpx.Client) -> None:
        response = http.get(f"{stack.nginx.url}/static/{PROBE}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        assert "etag" in response.headers or "last-modified" in response.headers

    def test_gzip_is_really_applied(self, stack: Stack, http: httpx.Client) -> None:
        raw = http.build_request(
            "GET", f"{stack.nginx.url}/static/{VERSION}/{PROBE}", headers={"Accept-Encoding": "gzip"}
        )
        response = http.send(raw, stream=True)
        try:
            body = b"".join(response.iter_raw())
        finally:
            response.close()
        assert len(body) < len(PROBE_BODY) / 3
        assert gzip.decompress(body).decode() == PROBE_BODY

    def test_metrics_are_not_reachable_through_nginx(self, stack: Stack, http: httpx.Client) -> None:
        assert http.get(f"{stack.nginx.url}/metrics").status_code == 404
        assert http.get(f"{stack.nginx.url}/metrics/").status_code == 404
        assert http.get(f"{stack.nginx.url}/%6Detrics").status_code == 404
        assert http.get(f"{stack.nginx.url}/metrics", headers=METRICS_AUTH).status_code == 404
        assert httpx.get(f"{stack.apps[0].url}/metrics").status_code == 404  # production: token only
        direct = httpx.get(f"{stack.apps[0].url}/metrics", headers=METRICS_AUTH)
        assert direct.status_code == 200 and "http_requests_total" in direct.text

    def test_bodies_over_1m_are_refused_by_nginx(self, stack: Stack, http: httpx.Client) -> None:
        response = http.post(f"{stack.nginx.url}/auth/token", content=b"a" * (1024 * 1024 + 1))
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body too large (limit 1 MiB)"}
        assert "content-security-policy" not in response.headers  # nginx answered, not the app

    def test_login_endpoints_are_rate_limited_by_nginx(self, stack: Stack) -> None:
        with client(stack.tls, source="127.0.0.3") as http:
            statuses = [http.get(f"{stack.nginx.url}/login").status_code for _ in range(25)]
            limited = http.get(f"{stack.nginx.url}/auth/token")
            health = http.get(f"{stack.nginx.url}/health")
        # burst=10 at 1r/s: the first 11 reach the app (401: no credentials); of the rest,
        # only one a second may (a slow machine takes a few seconds for the 25)
        assert statuses[:11] == [401] * 11
        assert statuses.count(429) >= 10
        assert limited.status_code == 429 and limited.json() == {"detail": "Too many requests"}
        assert health.status_code == 200  # only the login endpoints are limited


class TestWebSockets:
    def token(self, stack: Stack, http: httpx.Client) -> str:
        username = unique_name("ws")
        register_user(stack.apps[0].url, username)
        token: str = login(http, f"{stack.nginx.url}", username).json()["access_token"]
        return token

    def open_through_nginx(self, stack: Stack, **options: Any) -> tuple[TlsSocket, AppProcess]:
        """A socket opened through nginx, and the instance that holds it (the one that logged it)."""
        before = [app.output().count(ACCEPTED) for app in stack.apps]
        socket = open_tls_socket(stack.nginx.url, tls=stack.tls.context, source="127.0.0.2", **options)
        holders = wait_until(
            lambda: [app for app, n in zip(stack.apps, before, strict=True) if app.output().count(ACCEPTED) > n],
            timeout=10,
            what="the instance that accepted the socket",
        )
        assert len(holders) == 1
        return socket, holders[0]

    def test_a_socket_on_either_instance_hears_changes_made_on_the_other(
        self, stack: Stack, http: httpx.Client
    ) -> None:
        headers = {"Authorization": f"Bearer {self.token(stack, http)}"}
        held: dict[str, tuple[TlsSocket, AppProcess]] = {}
        with ExitStack() as sockets:
            for _ in range(6):  # least_conn: an instance already holding a socket is passed over
                socket, holder = self.open_through_nginx(stack, headers=headers)
                sockets.enter_context(socket)
                held.setdefault(holder.name, (socket, holder))
                if len(held) == 2:
                    break
            assert set(held) == {"app1", "app2"}
            for socket, holder in held.values():
                (other,) = [app for app in stack.apps if app is not holder]
                made = httpx.post(f"{other.url}/todos/todos", json={"title": "Elsewhere"}, headers=headers, timeout=10)
                assert made.status_code == 201
                # Every socket of the user gets it; this one's next event is this change.
                message = next_message(socket)
                while message["id"] != made.json()["id"]:
                    message = next_message(socket)
                assert message["type"] == "todo.created"

    def test_the_browsers_origin_is_accepted_through_nginx(self, stack: Stack, http: httpx.Client) -> None:
        session = cookie(SESSION_COOKIE, self.token(stack, http))
        socket, _ = self.open_through_nginx(stack, headers=session, origin=stack.nginx.url)
        with socket:
            assert is_open(socket)

    @pytest.mark.parametrize("kind", ["another site", "the app over plain http", "none"])
    def test_other_origins_are_refused_through_nginx(self, stack: Stack, http: httpx.Client, kind: str) -> None:
        origin = {
            "another site": "https://evil.example",
            "the app over plain http": stack.nginx.url.replace("https://", "http://"),
            "none": None,
        }[kind]
        session = cookie(SESSION_COOKIE, self.token(stack, http))
        assert refused_status(stack.nginx.url, headers=session, origin=origin, tls=stack.tls.context) == 403


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_stopping_one_instance_mid_load_loses_no_get(
    launcher: Launcher, nginx_bin: str, deploy_database: str, stop_signal: signal.Signals
) -> None:
    stack = start_stack(launcher, nginx_bin, deploy_database)
    username = unique_name("load")
    register_user(stack.apps[0].url, username)
    with client() as direct:
        token = login(direct, stack.apps[0].url, username).json()["access_token"]
    total, stop_after, threads = 300, 80, 6
    done = threading.Semaphore(0)
    victim = stack.apps[1]

    def fetch(_: int) -> int | str:
        try:
            with client(stack.tls, source="127.0.0.5") as http:
                return http.get(f"{stack.nginx.url}/user/", headers={"Authorization": f"Bearer {token}"}).status_code
        except httpx.RemoteProtocolError:
            return CUT  # the headers arrived, the body never did
        finally:
            done.release()

    def stop_midway() -> None:
        for _ in range(stop_after):
            done.acquire()
        victim.send(stop_signal)

    stopper = threading.Thread(target=stop_midway)
    stopper.start()
    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(fetch, range(total)))
    stopper.join()
    victim.wait(timeout=20)
    answered = Counter(statuses)
    if stop_signal is signal.SIGKILL:
        # A killed worker can die between writing an answer's headers and its body (two
        # writes, one after the other in one step of its event loop). nginx has passed the
        # headers on by then and cannot send the GET elsewhere. One event loop is between
        # those writes for one answer at most, so at most one GET is cut.
        assert answered.pop(CUT, 0) <= 1
    assert set(answered) == {200}
    assert not victim.alive()
    # Requests nginx had sent to the stopped instance were answered by the other one.
    survivor = f"127.0.0.1:{stack.apps[0].port}"
    retried = wait_until(
        lambda: [
            e
            for e in stack.nginx.access_entries()
            if e["upstream"].startswith(f"127.0.0.1:{victim.port}, ") and e["upstream"].endswith(survivor)
        ],
        timeout=10,
        what="a request retried on the surviving instance",
    )
    assert {e["status"] for e in retried} == {200}

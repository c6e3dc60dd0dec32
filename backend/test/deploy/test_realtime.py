"""Two app processes on one Redis: a change handled by either reaches the sockets held by
both. Redis killed mid-run: each process keeps serving its own sockets and warns; Redis
back: fan-out resumes by itself and every socket is told to resync."""

import signal
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection

from backend.test.live import LiveProcess, free_port, wait_until
from backend.test.socket_client import is_open, next_message, open_socket

from .processes import AppProcess, Launcher, client, login, register_user, unique_name
from .services import executable, redis_db, redis_up

REDIS_DB, OTHER_REDIS_DB = 14, 15
LOST = "Redis fan-out lost"
RESTORED = "Redis fan-out restored"
RESYNC = {"type": "resync"}


def bearer_for(app: AppProcess, prefix: str) -> dict[str, str]:
    """A new user's bearer header, signed up and logged in through `app`."""
    username = unique_name(prefix)
    register_user(app.url, username)
    with client() as http:
        return {"Authorization": f"Bearer {login(http, app.url, username).json()['access_token']}"}


def create(app: AppProcess, headers: dict[str, str], title: str) -> int:
    response = httpx.post(f"{app.url}/todos/todos", json={"title": title}, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    todo_id: int = response.json()["id"]
    return todo_id


def created_id(socket: ClientConnection, *, timeout: float = 5.0) -> Any:
    message = next_message(socket, timeout=timeout)
    assert message["type"] == "todo.created", message
    return message["id"]


def arrives(socket: ClientConnection, todo_id: int) -> bool:
    """Whether the next message on `socket` announces the todo `todo_id` (made before the call)."""
    return bool(created_id(socket) == todo_id)


def start_pair(launcher: Launcher, database_url: str, redis_url: str, prefix: str) -> tuple[AppProcess, AppProcess]:
    apps = [
        launcher.app(f"{prefix}-{n}", database_url=database_url, wait=False, settings={"REDIS_URL": redis_url})
        for n in ("a", "b")
    ]
    for app in apps:
        app.wait_ready()
    return apps[0], apps[1]


@pytest.fixture(scope="module")
def pair(module_launcher: Launcher, deploy_database: str) -> tuple[AppProcess, AppProcess]:
    return start_pair(module_launcher, deploy_database, redis_db(REDIS_DB), "fanout")


class TestSharedRedis:
    def test_a_change_on_either_process_reaches_sockets_on_both(self, pair: tuple[AppProcess, AppProcess]) -> None:
        a, b = pair
        headers = bearer_for(a, "fanout")
        with open_socket(a.url, headers=headers) as on_a, open_socket(b.url, headers=headers) as on_b:
            via_b = create(b, headers, "Made on B")
            assert created_id(on_a) == via_b
            assert created_id(on_b) == via_b
            via_a = create(a, headers, "Made on A")
            assert created_id(on_b) == via_a
            assert created_id(on_a) == via_a

    def test_an_app_on_another_redis_database_hears_nothing(
        self, pair: tuple[AppProcess, AppProcess], module_launcher: Launcher, deploy_database: str
    ) -> None:
        a, _ = pair
        # Same app database (so the same user ids), another Redis database: another deployment.
        other = module_launcher.app(
            "fanout-other", database_url=deploy_database, settings={"REDIS_URL": redis_db(OTHER_REDIS_DB)}
        )
        headers = bearer_for(a, "isolated")
        with open_socket(other.url, headers=headers) as socket:
            create(a, headers, "Not for the other deployment")
            own = create(other, headers, "Made on the other deployment")
            assert created_id(socket) == own  # nothing from A came before it


def redis_command() -> tuple[list[str], str]:
    """A private redis-server's command line (it is killed and restarted on one port) and its URL."""
    port = str(free_port())
    binary = executable("redis-server", package="Debian package redis-server")
    return [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        port,
        "--save",
        "",
        "--appendonly",
        "no",
    ], f"redis://127.0.0.1:{port}/0"


def start_redis(launcher: Launcher, command: list[str], url: str) -> LiveProcess:
    redis = launcher.process("redis", command)
    wait_until(lambda: redis_up(url), timeout=10, what="the private redis-server")
    return redis


def test_redis_killed_and_restarted(launcher: Launcher, deploy_database: str) -> None:
    command, url = redis_command()
    redis = start_redis(launcher, command, url)
    a, b = start_pair(launcher, deploy_database, url, "outage")
    headers = bearer_for(a, "outage")
    with open_socket(a.url, headers=headers) as on_a, open_socket(b.url, headers=headers) as on_b:
        before = create(b, headers, "Before the outage")
        assert arrives(on_a, before) and arrives(on_b, before)

        redis.send(signal.SIGKILL)
        redis.wait(timeout=10)
        # Each process still serves its own sockets, and says why only those.
        assert arrives(on_a, create(a, headers, "On A, Redis down"))
        assert arrives(on_b, create(b, headers, "On B, Redis down"))
        wait_until(lambda: LOST in a.output() and LOST in b.output(), timeout=10, what="the fan-out warning")

        start_redis(launcher, command, url)
        seen_on_a: list[dict[str, Any]] = []
        wait_until(lambda: reached(b, headers, on_a, seen_on_a), timeout=20, what="a change on B to reach A again")
        assert RESYNC in seen_on_a, seen_on_a
        assert RESYNC in drain(on_b), "B's sockets are told to resync too"
        assert arrives(on_b, create(a, headers, "A to B again"))
        assert RESTORED in a.output() and RESTORED in b.output()
        assert is_open(on_a) and is_open(on_b)


def reached(origin: AppProcess, headers: dict[str, str], socket: ClientConnection, seen: list[dict[str, Any]]) -> bool:
    """Make a change on `origin`; whether `socket` got it within 1 s (its messages are added to `seen`).

    Until both relays are back, a change may be delivered only where it was made: the poll
    makes another one."""
    todo_id = create(origin, headers, "Are you back?")
    got = drain(socket, timeout=1.0)
    seen.extend(got)
    return any(m.get("type") == "todo.created" and m["id"] == todo_id for m in got)


def drain(socket: ClientConnection, *, timeout: float = 1.0) -> list[dict[str, Any]]:
    """Every message `socket` gets until it has been quiet for `timeout` s."""
    seen: list[dict[str, Any]] = []
    while True:
        try:
            seen.append(next_message(socket, timeout=timeout))
        except TimeoutError:
            return seen

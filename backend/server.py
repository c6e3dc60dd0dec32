"""`python -m backend.server APP [uvicorn options]`: uvicorn, with each worker on a
listening socket of its own.

uvicorn's `--workers N` binds one socket and shares it, and two things go wrong:

- its socket is made without naming TCP as its protocol, so asyncio never sets
  TCP_NODELAY on the connections it accepts, and each answer waits out the client's
  delayed ACK (40 ms) before its last segment leaves;
- the kernel wakes every worker on a new connection and the first to run takes the whole
  burst, so a load balancer's keep-alive connections land mostly on one worker.

Measured: two workers served 0.89 x one worker's requests with half the machine idle
(docs/performance.md, issue 12). Here every worker gets its own TCP socket bound with
SO_REUSEPORT on the same address, and the kernel spreads new connections evenly over
them. Everything else (options, signals, restarts of dead workers) is uvicorn's.
"""

import importlib
import socket
import sys
from typing import Any

from uvicorn import Config
from uvicorn.supervisors import Multiprocess

# The module (the package's `uvicorn.main` attribute is its click command of that name).
uvicorn_main: Any = importlib.import_module("uvicorn.main")


def reuse_port_socket(config: Config) -> socket.socket:
    """A listening TCP socket on config's host and port that others may bind too.

    Made with the protocol named (IPPROTO_TCP): asyncio turns Nagle's algorithm off
    (TCP_NODELAY) only on accepted sockets whose `proto` says TCP, and an accepted socket
    inherits it from this one. uvicorn's own shared socket leaves it 0, so every answer of
    a multi-worker server waited out the client's delayed ACK: 44 ms a request, 725
    requests/s for the bare ceiling app against 6,400 with one worker.
    """
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((config.host, config.port))
        sock.listen(config.backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class OwnSocketPerWorker(Multiprocess):
    """uvicorn's supervisor, handing each worker it starts a fresh SO_REUSEPORT socket.

    The supervisor's copy of a socket is closed once the worker has it: a socket held
    only here would stay in the kernel's group after its worker died, and connections
    hashed to it would wait forever.
    """

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        for shared in sockets:  # the one socket uvicorn bound for every worker
            shared.close()
        self._handed: list[socket.socket] = []
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        """Read by uvicorn each time it creates a worker: a socket for that worker alone."""
        sock = reuse_port_socket(self.config)
        self._handed.append(sock)
        return [sock]

    @sockets.setter
    def sockets(self, _value: list[socket.socket]) -> None:
        pass

    def _close_handed(self) -> None:
        while self._handed:
            self._handed.pop().close()

    def init_processes(self) -> None:
        super().init_processes()
        self._close_handed()

    def restart_all(self) -> None:
        super().restart_all()
        self._close_handed()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        self._close_handed()


def main() -> None:
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not Linux/BSD/macOS
        uvicorn_main.main()
        return
    uvicorn_main.Multiprocess = OwnSocketPerWorker  # what uvicorn.run starts for --workers > 1
    uvicorn_main.main(args=sys.argv[1:], prog_name="python -m backend.server")


if __name__ == "__main__":
    main()

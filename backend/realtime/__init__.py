"""Real time: change events recorded by the services, fanned out to open WebSockets.

- `events`: what a change announces and to whom; recorded on the unit of work's session
  and handed over only once it commits.
- `hub`: this process's sockets per user, and the fan-out (in memory, or through Redis
  pub/sub when REDIS_URL is set, so every process's sockets hear every change).
- `connection`: one socket's life: handshake checks, pings, limits, delivery.
"""

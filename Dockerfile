# syntax=docker/dockerfile:1
#
# Build from the repository root, which is the build context:
#   docker build -t todo-app .                 # the app (last stage, the default)
#   docker build --target web -t todo-nginx .  # nginx with the static files
# The context is filtered by Dockerfile.dockerignore (-> backend/.dockerignore).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: a virtualenv with the runtime dependencies only -------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY backend/requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# --- web: nginx in front of the app, serving /static itself ----------------------------
FROM nginx:1.28-alpine AS web
COPY deploy/nginx/nginx.conf /etc/nginx/nginx.conf
COPY frontend/static /srv/static

# --- runtime: the app, as an unprivileged user ----------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# Owned by root and read-only to the app user: the process cannot rewrite its own code.
COPY alembic.ini ./
COPY frontend ./frontend
COPY backend ./backend
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]
# Migrations first; a failed upgrade stops the container before it serves anything.
CMD ["/bin/sh", "-c", "backend/scripts/prestart.sh && exec backend/scripts/serve.sh"]

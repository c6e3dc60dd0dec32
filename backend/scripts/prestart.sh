#!/usr/bin/env bash
# Bring the database schema to the latest revision before any server starts.
# Run once per deployment (docker compose's `migrate` service, or the image's CMD),
# not once per worker: Alembic takes no lock against concurrent upgrades.
set -euo pipefail
cd "$(dirname "$0")/../.."   # alembic.ini lives at the repository root

alembic upgrade head

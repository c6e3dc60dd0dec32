#!/usr/bin/env bash
# The deployment files, each checked by its own validator, offline:
#   Dockerfile                  hadolint
#   docker-compose.yml          the Compose specification's schema
#   .gitlab-ci.yml, .github/workflows/ci.yml   GitLab's and GitHub's schemas
#   deploy/k8s/production       rendered by `kubectl kustomize`, every object validated by
#                               kubernetes-validate --strict against KUBERNETES_VERSION;
#                               a warning (e.g. a kind it has no schema for) fails too.
# Usage: backend/scripts/check_deploy.sh [ROOT]   (a tree holding those files; default: this repository)
set -euo pipefail
source "$(dirname "$0")/_common.sh"
ensure_venv backend/requirements-dev.txt
root="${1:-$REPO_ROOT}"
KUBERNETES_VERSION=1.35.0

"$VENV/bin/hadolint" --no-color "$root/Dockerfile"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$root/docker-compose.yml"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$root/.gitlab-ci.yml"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$root/.github/workflows/ci.yml"

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
"$VENV/bin/kubectl" kustomize "$root/deploy/k8s/production" >"$rendered"
# --quiet prints only warnings and errors, so any output is a failure.
status=0
report="$("$VENV/bin/kubernetes-validate" --strict --quiet -k "$KUBERNETES_VERSION" "$rendered" 2>&1)" || status=$?
if [ "$status" -ne 0 ] || [ -n "$report" ]; then
  echo "$report" >&2
  echo "error: kubernetes-validate $KUBERNETES_VERSION: deploy/k8s/production does not validate cleanly" >&2
  exit 1
fi
echo "deployment files: ok (Kubernetes $KUBERNETES_VERSION, $(grep -c '^kind:' "$rendered") objects)"

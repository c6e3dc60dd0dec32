# Sourced by the other scripts: repo root, venv creation and requirement installs.
# shellcheck shell=bash
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO_ROOT/backend/.venv"
PY="$VENV/bin/python"
cd "$REPO_ROOT"

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

# ensure_venv REQUIREMENTS_FILE: create backend/.venv once, (re)install when the file changes.
ensure_venv() {
  local requirements="$1" stamp
  if [ ! -x "$PY" ]; then
    local python
    python="$(find_python)"
    echo "Creating $VENV with $python" >&2
    "$python" -m venv "$VENV" || {
      echo "error: could not create a virtualenv (on Debian/Ubuntu: apt-get install python3-venv)" >&2
      return 1
    }
    "$PY" -m pip install --quiet --upgrade pip
  fi
  stamp="$VENV/.installed-$(basename "$requirements")"
  local digest
  digest="$(cat "$requirements" backend/requirements.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing $requirements" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$digest" >"$stamp"
  fi
}

# ensure_apt PACKAGE...: install Debian packages that are missing, when we may.
ensure_apt() {
  local missing=() pkg sudo=""
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      echo "warning: missing ${missing[*]}; install them to run every test" >&2
      return 0
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "warning: no apt-get; missing ${missing[*]}" >&2; return 0; }
  echo "Installing ${missing[*]} with apt-get" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

#!/usr/bin/env bash
# make deploy-check: validates the deploy artifacts offline (no cluster, no network
# besides PyPI for the first install). See docs/deploy.md, "How deploy-check works".
#
#   MARQUEE_VENV    virtualenv to create/reuse (default ~/.cache/marquee-deploy-venv)
#   MARQUEE_PYTHON  interpreter for the virtualenv (default: newest python3.1x >= 3.10)
#   extra arguments go to check.py (--help lists them)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${MARQUEE_VENV:-${HOME:-/tmp}/.cache/marquee-deploy-venv}"

pick_python() {
  local candidate
  for candidate in ${MARQUEE_PYTHON:-} python3.13 python3.12 python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "deploy-check: needs Python >= 3.10 (helm-python-sdk); set MARQUEE_PYTHON" >&2
  return 1
}

python="$(pick_python)"
stamp="$(
  {
    cat "$here/requirements.txt" "$here/constraints.txt" "$here/requirements-hcl2.txt"
    "$python" -c 'import sys; print(sys.version)'
    echo "$python"
  } | sha256sum | cut -d' ' -f1
)"

install_tools() {
  echo "deploy-check: installing tools into $venv (first run or requirements changed)"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv" || {
    echo "deploy-check: '$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
    return 1
  }
  local pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input --retries 5 --timeout 60)
  "${pip[@]}" install --quiet pip==26.3
  "${pip[@]}" install --quiet -r "$here/requirements.txt" -c "$here/constraints.txt"
  "${pip[@]}" install --quiet --no-deps --target "$venv/opt/python-hcl2" -r "$here/requirements-hcl2.txt"
  echo "$stamp" >"$venv/.marquee-deploy-check-stamp"
}

mkdir -p "$(dirname "$venv")"
# One installer at a time when several checks start together (flock is util-linux).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  flock 9
fi
if [ ! -x "$venv/bin/python" ] || [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/actionlint" ] ||
  [ ! -d "$venv/opt/python-hcl2/hcl2" ] ||
  [ "$(cat "$venv/.marquee-deploy-check-stamp" 2>/dev/null)" != "$stamp" ]; then
  install_tools
fi
if command -v flock >/dev/null 2>&1; then
  flock -u 9
fi

export MARQUEE_VENV="$venv"
cd "$root"
exec "$venv/bin/python" "$here/check.py" "$@"

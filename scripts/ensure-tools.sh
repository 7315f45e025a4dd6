#!/usr/bin/env bash
# Installs the build tools the workspace needs when they are missing (fresh machine):
# protoc for tonic code generation. Debian packages; needs root or sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v protoc >/dev/null 2>&1; then
  echo "installing protoc (protobuf-compiler)"
  apt_install protobuf-compiler
fi

for tool in "$@"; do
  case "$tool" in
    wrk) command -v wrk >/dev/null 2>&1 || { echo "installing wrk"; apt_install wrk; } ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
done

#!/usr/bin/env bash
# Installs the build tools the workspace needs when they are missing (fresh machine):
# protoc for tonic code generation; cmake, clang and libclang for llama.cpp, which
# llama-cpp-sys-2 (crates/llm) compiles from source and binds with bindgen. Debian
# packages; needs root or sudo.
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

# llama.cpp: cmake builds it, clang compiles it, bindgen needs libclang.so.
llama_pkgs=()
command -v cmake >/dev/null 2>&1 || llama_pkgs+=(cmake)
command -v clang >/dev/null 2>&1 || llama_pkgs+=(clang)
if ! ldconfig -p 2>/dev/null | grep -q 'libclang\(-[0-9.]*\)\?\.so' &&
   ! dpkg-query -W -f='${Status}' libclang-dev 2>/dev/null | grep -q 'install ok installed'; then
  llama_pkgs+=(libclang-dev)
fi
if [ "${#llama_pkgs[@]}" -gt 0 ]; then
  echo "installing ${llama_pkgs[*]} (to build llama.cpp)"
  apt_install "${llama_pkgs[@]}"
fi

for tool in "$@"; do
  case "$tool" in
    wrk) command -v wrk >/dev/null 2>&1 || { echo "installing wrk"; apt_install wrk; } ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
done

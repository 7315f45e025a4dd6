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
    # scripts/bench-proxy.sh: nginx proxies gRPC beside the gateway; h2load drives both.
    nginx)
      if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
        echo "installing nginx"
        apt_install nginx
      fi ;;
    h2load) command -v h2load >/dev/null 2>&1 || { echo "installing h2load (nghttp2-client)"; apt_install nghttp2-client; } ;;
    # The web studio: Node.js and npm build it; its browser tests drive Debian's
    # Chromium through playwright-core (browser downloads are not possible here).
    node)
      if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "installing nodejs npm"
        apt_install nodejs npm
      fi
      # Vite 8 needs Node.js 20.19 or newer.
      if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
        echo "Node.js $(node --version) is too old for the studio's build (Vite 8 needs 20.19+)" >&2
        exit 1
      fi ;;
    # CHROMIUM_PATH names another Chromium-based browser (GitHub's runners: Chrome).
    chromium)
      if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
        echo "installing chromium"
        apt_install chromium
      fi ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
done

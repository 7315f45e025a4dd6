#!/usr/bin/env bash
# Makes sure PostgreSQL, RabbitMQ and Redis answer on their standard loopback ports,
# installing them from Debian's packages and starting them when they do not.
# Idempotent and quick when everything already runs.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    if listening "$port"; then return 0; fi
    sleep 1
  done
  echo "$name did not come up on port $port" >&2
  exit 1
}

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  listening 5432 && return 0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "installing PostgreSQL"
    apt_install postgresql
    # Tests connect as postgres over TCP without a password, as on the dev machines.
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
    $SUDO sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  fi
  echo "starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql | head -n1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL 5432
}

ensure_redis() {
  listening 6379 && return 0
  command -v redis-server >/dev/null 2>&1 || { echo "installing Redis"; apt_install redis-server; }
  echo "starting Redis"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis 6379
}

ensure_rabbitmq() {
  listening 5672 && return 0
  command -v rabbitmq-server >/dev/null 2>&1 || { echo "installing RabbitMQ"; apt_install rabbitmq-server; }
  echo "starting RabbitMQ"
  $SUDO rabbitmq-server -detached || true
  wait_for RabbitMQ 5672
}

ensure_postgres
ensure_redis
ensure_rabbitmq
echo "PostgreSQL, Redis and RabbitMQ are up"

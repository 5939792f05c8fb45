#!/bin/sh
# Install Debian's docker-compose (1.29, the hyphenated command services.md
# uses), which tests/docker_compose_test.py runs as `docker-compose config`.
# No Docker engine is needed for that. Idempotent: does nothing when
# docker-compose is already on PATH. Needs root, or sudo without a password.
set -eu

if command -v docker-compose >/dev/null 2>&1; then
    echo "docker-compose already installed: $(docker-compose version --short 2>/dev/null || command -v docker-compose)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "error: installing docker-compose needs root (apt-get); run this script as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (e.g. the chromium installer) instead of failing.
LOCK="-o DPkg::Lock::Timeout=600"
$SUDO apt-get $LOCK update -q
$SUDO apt-get $LOCK install -y -q --no-install-recommends docker-compose
docker-compose version --short

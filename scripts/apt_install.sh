#!/bin/sh
# Install Debian packages that the tests drive, once per machine:
#   sh scripts/apt_install.sh COMMAND PACKAGE...
# does nothing when COMMAND (a name on PATH or an absolute path) already
# exists, else apt-installs PACKAGE... Used for the browser tests' chromium
# (chromium chromium-driver) and the compose tests' docker-compose (1.29, the
# hyphenated command services.md uses). Needs root, or sudo without a password.
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: $0 COMMAND PACKAGE..." >&2
    exit 2
fi
command=$1
shift

if command -v "$command" >/dev/null 2>&1; then
    echo "$command already installed: $(command -v "$command")"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "error: installing $* needs root (apt-get); run this script as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (e.g. a parallel installer) instead of failing.
LOCK="-o DPkg::Lock::Timeout=600"
$SUDO apt-get $LOCK update -q
$SUDO apt-get $LOCK install -y -q --no-install-recommends "$@"
command -v "$command"

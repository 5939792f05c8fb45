#!/bin/sh
# Install the headless Chromium the dashboard browser tests drive
# (Debian packages: /usr/bin/chromium and /usr/bin/chromedriver).
# Idempotent: does nothing when /usr/bin/chromium already exists.
# Needs root, or sudo without a password, for apt-get.
set -eu

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "error: installing chromium needs root (apt-get); run this script as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium chromium-driver
/usr/bin/chromium --version

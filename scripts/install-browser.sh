#!/usr/bin/env bash
# Debian's chromium for the visualization browser e2e (driven by playwright-core from
# node_modules through executablePath=/usr/bin/chromium; playwright's own browser download is
# never used, so it works without any host but Debian's package mirror).
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "[browser] /usr/bin/chromium already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "[browser] installing Debian chromium"
if ! ${SUDO} apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium fonts-dejavu-core; then
  ${SUDO} apt-get -o DPkg::Lock::Timeout=600 update
  ${SUDO} apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium fonts-dejavu-core
fi
/usr/bin/chromium --version

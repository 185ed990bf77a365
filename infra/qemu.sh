#!/usr/bin/env bash
# QEMU for the qemu driver's tests and demos, from Debian's packages, and the project's own test guest.
#
#   infra/qemu.sh setup    install qemu-system-x86, qemu-utils and gcc when missing (apt-get), build the test guest,
#                          print `export ORCHESTRATOR_QEMU_GUEST=<path>` on stdout (progress on stderr),
#                          so `eval "$(infra/qemu.sh setup)"` works.
#   infra/qemu.sh guest    only build the guest (tests/guest/build.sh) and print the same line.
#
# The guest lands in <repo>/.data/qemu/guest.elf (ignored by git), or $ORCHESTRATOR_QEMU_GUEST when set.
# Only TCG is used (-accel tcg): these machines' /dev/kvm is not usable for this.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
GUEST=${ORCHESTRATOR_QEMU_GUEST:-$REPO/.data/qemu/guest.elf}

log() { printf '[qemu] %s\n' "$*" >&2; }

install_missing() {
  local pkgs=()
  command -v qemu-system-x86_64 >/dev/null || pkgs+=(qemu-system-x86)
  command -v gcc >/dev/null || pkgs+=(gcc)
  # qemu-img: the disk migration tests compare the source and target images with it.
  command -v qemu-img >/dev/null || pkgs+=(qemu-utils)
  (( ${#pkgs[@]} )) || return 0
  log "installing ${pkgs[*]} (apt-get)"
  local apt=(apt-get -o DPkg::Lock::Timeout=900 -q)
  "${apt[@]}" update >&2
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${pkgs[@]}" >&2
}

build_guest() {
  "$REPO/tests/guest/build.sh" "$GUEST" >/dev/null
  log "test guest: $GUEST"
  printf 'export ORCHESTRATOR_QEMU_GUEST=%q\n' "$GUEST"
}

case ${1:-setup} in
  setup) install_missing; build_guest ;;
  guest) build_guest ;;
  *) echo "usage: $0 setup|guest" >&2; exit 2 ;;
esac

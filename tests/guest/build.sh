#!/usr/bin/env bash
# Builds the test guest (a multiboot ELF) with Debian's gcc: build.sh [OUTPUT] (default: <repo>/.data/qemu/guest.elf).
# No gcc-multilib needed: the guest uses no C library and no libgcc.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
out=${1:-$here/../../.data/qemu/guest.elf}
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(-m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -Wall -Wextra -Werror)
gcc "${flags[@]}" -c "$here/boot.S" -o "$tmp/boot.o"
gcc "${flags[@]}" -c "$here/guest.c" -o "$tmp/guest.o"
gcc -m32 -no-pie -nostdlib -static -Wl,-m,elf_i386 -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T "$here/link.ld" "$tmp/boot.o" "$tmp/guest.o" -o "$tmp/guest.elf"
mv "$tmp/guest.elf" "$out"
echo "$out"

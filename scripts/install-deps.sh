#!/usr/bin/env bash
# Installs the Debian packages Lockstep's guests, tests and benchmarks need, when missing:
# the RISC-V cross toolchain (guests, conformance programs, objdump for the disassembler test),
# QEMU (the reference the CPU is compared against), dtc (to decompile QEMU's device tree and
# ours for the device-tree tests), libslirp's headers (`--netdev user`; the CSlirp target links
# -lslirp) with pkg-config, iproute2 (the TAP and bridge tests configure interfaces with `ip`; the network-namespace
# lab) with iputils-ping,
# libzstd's headers (the CZstd target: a disk copy to a joining backup is compressed), e2fsprogs
# (mkfs.ext4 formats the disks of the disk tests; debugfs reads the kernel and initrd out of a disk
# image for `--boot-from-disk`), and redis-server with redis-tools (the Redis
# client's tests run a real server; the network benchmark runs redis-benchmark); debootstrap,
# qemu-user-static and binfmt-support for the Debian guest (guests/debian/build.sh, which runs in
# the background in scripts/test.sh: installing them here keeps two apt-gets from running at once);
# etcd-server (etcd as the arbiter and the pool's store: the tests start their own members) and
# curl (the pool lab asks the members in its namespaces whether they serve);
# chromium (headless, renders the agents' status page in the pool test); binutils (GNU as, objcopy and
# nm: the translator's x86-64 encoder is checked byte for byte against `as`).
set -euo pipefail
need=()
command -v riscv64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-riscv64-linux-gnu)
command -v riscv64-linux-gnu-objdump >/dev/null 2>&1 || need+=(binutils-riscv64-linux-gnu)
command -v qemu-system-riscv64 >/dev/null 2>&1 || need+=(qemu-system-misc)
command -v dtc >/dev/null 2>&1 || need+=(device-tree-compiler)
command -v make >/dev/null 2>&1 || need+=(make)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
[[ -f /usr/include/slirp/libslirp.h ]] || need+=(libslirp-dev)
[[ -f /usr/include/zstd.h ]] || need+=(libzstd-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v ip >/dev/null 2>&1 || [[ -x /sbin/ip ]] || [[ -x /usr/sbin/ip ]] || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v mkfs.ext4 >/dev/null 2>&1 || [[ -x /sbin/mkfs.ext4 ]] || [[ -x /usr/sbin/mkfs.ext4 ]] || need+=(e2fsprogs)
command -v debootstrap >/dev/null 2>&1 || [[ -x /usr/sbin/debootstrap ]] || need+=(debootstrap)
[[ -x /usr/bin/qemu-riscv64-static ]] || need+=(qemu-user-static)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
{ command -v as && command -v objcopy && command -v nm; } >/dev/null 2>&1 || need+=(binutils)
command -v update-binfmts >/dev/null 2>&1 || [[ -x /usr/sbin/update-binfmts ]] || need+=(binfmt-support)
if ((${#need[@]})); then
    sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    echo "installing: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

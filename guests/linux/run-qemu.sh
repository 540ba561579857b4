#!/usr/bin/env bash
# Boots Lockstep's Linux guest (guests/linux/build.sh) on QEMU's riscv64 `virt`
# machine with OpenSBI (QEMU's default firmware), console on this terminal.
#
#   guests/linux/run-qemu.sh [options] [-- extra qemu arguments]
#     --disk FILE     attach FILE (raw image, e.g. from mkfs.ext4) as virtio-blk
#                     (/dev/vda in the guest); may be given more than once
#     --net           virtio-net with QEMU user networking (eth0 10.0.2.15/24,
#                     gateway 10.0.2.2, DNS 10.0.2.3; set up by /init, or by the
#                     kernel when --append has ip=...)
#     --forward HOSTPORT:GUESTPORT
#                     --net, and forward TCP connections to 127.0.0.1:HOSTPORT
#                     on this machine to the guest's port GUESTPORT; may be
#                     given more than once
#     --rng           virtio-rng fed from the host's /dev/urandom (/dev/hwrng)
#     --all           --net and --rng
#     --mem SIZE      guest RAM (default 256M)
#     --append ARGS   extra kernel command line arguments
#     --dir DIR       boot DIR/Image and DIR/initramfs.cpio.gz instead of the
#                     images guests/linux/build.sh builds or finds in its cache
#     --dry-run       print the QEMU command line instead of running it
#
# Ctrl-A X quits QEMU; `poweroff` (or poweroff -f) in the guest shell powers off.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir=""
mem=256M
append=""
dry=0
devs=()
ndisks=0
net=-1      # where the virtio-net arguments go in devs (in option order), if any
hostfwd=""
while (($#)); do
    case "$1" in
        --disk)
            [[ -f "${2:-}" ]] || { echo "run-qemu.sh: --disk needs an existing file" >&2; exit 2; }
            devs+=(-drive "file=$2,format=raw,if=none,id=disk$ndisks" -device "virtio-blk-device,drive=disk$ndisks")
            ndisks=$((ndisks + 1))
            shift 2 ;;
        --net) ((net >= 0)) || { net=${#devs[@]}; devs+=(net); }; shift ;;
        --forward)
            [[ "${2:-}" =~ ^[0-9]+:[0-9]+$ ]] || { echo "run-qemu.sh: --forward needs HOSTPORT:GUESTPORT" >&2; exit 2; }
            ((net >= 0)) || { net=${#devs[@]}; devs+=(net); }
            hostfwd+=",hostfwd=tcp:127.0.0.1:${2%%:*}-:${2##*:}"
            shift 2 ;;
        --rng) devs+=(-object rng-random,filename=/dev/urandom,id=rng0 -device virtio-rng-device,rng=rng0); shift ;;
        --all) set -- --net --rng "${@:2}" ;;
        --mem) mem="$2"; shift 2 ;;
        --append) append="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        --dry-run) dry=1; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "run-qemu.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [[ -z "$dir" ]]; then
    dir="$("$here/build.sh" | tail -n1)"
fi
for f in Image initramfs.cpio.gz; do
    [[ -f "$dir/$f" ]] || { echo "run-qemu.sh: no $dir/$f" >&2; exit 1; }
done

# Debian's qemu-system-misc runs OpenSBI (from qemu-system-data) for -bios default.
if ! command -v qemu-system-riscv64 >/dev/null 2>&1 ||
    [[ ! -f /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin ]]; then
    sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
        install -y -qq --no-install-recommends qemu-system-misc qemu-system-data >&2
fi

if ((net >= 0)); then
    devs=("${devs[@]:0:net}" -netdev "user,id=net0$hostfwd" -device virtio-net-device,netdev=net0
          "${devs[@]:net+1}")
fi

cmdline="console=ttyS0 earlycon=sbi${append:+ $append}"
cmd=(qemu-system-riscv64 -M virt -m "$mem" -smp 1 -nographic -bios default
     -kernel "$dir/Image" -initrd "$dir/initramfs.cpio.gz" -append "$cmdline"
     ${devs[@]+"${devs[@]}"} "$@")
if ((dry)); then
    printf '%q ' "${cmd[@]}"
    echo
    exit 0
fi
exec "${cmd[@]}"

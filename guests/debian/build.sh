#!/usr/bin/env bash
# Builds an unmodified Debian trixie riscv64 system as a raw ext4 disk image for Lockstep:
# `debootstrap --arch=riscv64 --variant=minbase` from the machine's Debian mirror, with
# systemd (as init), udev, iproute2, e2fsprogs, redis-server, Debian's kernel
# (linux-image-riscv64) and its initramfs-tools initrd; the second stage runs in a chroot under
# qemu-user-static through binfmt_misc. Every package is Debian's own; what this script adds is
# configuration, all of it in guests/debian/rootfs/ (copied over the new system) and below:
#
#   - root logs in automatically on the serial console ttyS0 (and on hvc0): agetty prints the
#     "lockstep login:" prompt, then "root (automatic login)" and a shell. root's password is
#     empty, so any other console logs in as root without one. A test image, not a server.
#   - hostname `lockstep`, /etc/fstab with / on /dev/vda (the whole disk, no partition table).
#   - systemd-networkd configures every Ethernet interface by DHCP (10.0.2.15 with `lockstep
#     run`'s default user-mode network); redis-server is enabled (Debian enables it; checked).
#   - the initrd holds only the drivers for the root file system (MODULES=list, the hook
#     lockstep-virtio: virtio-mmio, virtio-blk, ext4), and is generated once, at the end.
#   - no unit is masked or disabled: the system reaches `running` on Lockstep as installed
#     (no unit fails: there is no hardware clock, but systemd advances the clock to its build
#     date; no dbus is installed, so poweroff and friends warn, then work without it).
#
# The image is cached outside the clone, in
#     ${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}/debian/KEY/
# where KEY is a hash of every input: this script, the files under rootfs/, the suite, the
# architecture, the package list, the mirror URL, the debootstrap and e2fsprogs versions. The
# archive itself is not pinned (trixie's point releases change package versions, not the key):
# packages.txt in the directory lists the versions that went in, and inputs.txt the Release
# date of the archive as it was. A build happens only when the directory does not exist yet;
# it is made in a temporary directory and renamed into place, so it is either complete or
# absent. The directory holds:
#
#   disk.img          the root file system, ext4, 2 GiB sparse (LOCKSTEP_DEBIAN_DISK_SIZE)
#   Image             Debian's kernel (/boot/vmlinux-*: an uncompressed RISC-V Image with an
#                     EFI stub, which Lockstep and QEMU load as an Image)
#   initrd.img        Debian's initrd for it (initramfs-tools, zstd)
#   cmdline           the kernel command line to boot it with
#   packages.txt, inputs.txt, build.log, SHA256SUMS
#
#   guests/debian/build.sh              build if needed; the last (only) line on stdout is the
#                                       image directory
#   guests/debian/build.sh --print-dir  print the image directory for the current inputs
#                                       without building; exit status 0 if it is built, 1 if not
#   guests/debian/build.sh --force      rebuild even if the directory exists
#
# Boot it (writes to the disk: boot a copy to keep the cached image as built):
#   dir=$(guests/debian/build.sh); cp --sparse=always "$dir/disk.img" /tmp/debian.img
#   lockstep run --kernel "$dir/Image" --initrd "$dir/initrd.img" --append "$(cat "$dir/cmdline")" \
#       --disk /tmp/debian.img --memory 1024
#
# Needs root (debootstrap, chroot, binfmt_misc). Missing Debian packages (debootstrap,
# qemu-user-static, binfmt-support, e2fsprogs) are installed with apt-get. The mirror is the
# first Debian archive URI in this machine's apt sources (LOCKSTEP_DEBIAN_MIRROR overrides it);
# trixie's riscv64 is in the main archive. Everything but the final directory goes to stderr.
# LOCKSTEP_KEEP_WORK=1 keeps the temporary root tree for inspection.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode=build
for arg in "$@"; do
    case "$arg" in
        --print-dir) mode=print ;;
        --force|-f) mode=force ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "usage: $0 [--print-dir|--force]" >&2; exit 2 ;;
    esac
done

log() { echo "debian: $*" >&2; }
die() { echo "debian: error: $*" >&2; exit 1; }

suite=trixie
arch=riscv64
variant=minbase
# What goes in besides minbase (debootstrap resolves their dependencies). e2fsprogs: fsck for
# the root file system at boot (minbase no longer has it in trixie).
packages=(systemd systemd-sysv udev iproute2 e2fsprogs redis-server linux-image-riscv64 initramfs-tools)
disk_size="${LOCKSTEP_DEBIAN_DISK_SIZE:-2G}"
# ro, as Debian boots: the initrd checks / (e2fsck) before mounting it read-only, and systemd
# remounts it read-write as /etc/fstab says.
cmdline="console=ttyS0 root=/dev/vda ro"
cache_root="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}/debian"

# --- apt helpers (as guests/linux/build.sh) -------------------------------------------

sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
apt_get() {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=900 "$@"
}
apt_updated=0
apt_update() {
    ((apt_updated)) && return 0
    log "apt-get update"
    apt_get update -qq >&2
    apt_updated=1
}
is_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}
install_pkgs() {
    local missing=() p
    for p in "$@"; do is_installed "${p%%=*}" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    apt_update
    log "apt-get install ${missing[*]}"
    apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The Debian archive this machine's apt uses: the first URI of a deb entry (deb822 .sources or
# one-line .list) whose path ends in /debian (not debian-security, not a third-party archive).
find_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -e "$f" ]] || continue
        uri="$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")"
        [[ -n "$uri" ]] && { echo "${uri%/}"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -e "$f" ]] || continue
        uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { if ($i ~ /\/debian\/?$/) { print $i; exit } else break } }' "$f")"
        [[ -n "$uri" ]] && { echo "${uri%/}"; return; }
    done
    echo "http://deb.debian.org/debian"
}
mirror="${LOCKSTEP_DEBIAN_MIRROR:-$(find_mirror)}"

# --- inputs and cache key -------------------------------------------------------------

[[ -d "$here/rootfs" ]] || die "$here/rootfs is missing"
version_of() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
# debootstrap and e2fsprogs make the image; their versions are inputs once installed (a
# --print-dir before the first build sees "not installed" and so a different key: it says
# "not built", which is true).
inputs="lockstep debian guest inputs v1
$(cd "$here" && sha256sum build.sh && find rootfs -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
$(cd "$here" && find rootfs -printf '%M %p\n' | LC_ALL=C sort)
suite $suite
arch $arch
variant $variant
packages ${packages[*]}
mirror $mirror
disk size $disk_size
cmdline $cmdline
debootstrap $(version_of debootstrap)
e2fsprogs $(version_of e2fsprogs)
"
key="$(printf '%s' "$inputs" | sha256sum | cut -c1-16)"
out="$cache_root/$key"

if [[ "$mode" == print ]]; then
    echo "$out"
    [[ -f "$out/disk.img" && -f "$out/Image" && -f "$out/initrd.img" ]]
    exit
fi

[[ "$(id -u)" == 0 ]] || die "needs root (debootstrap, chroot, binfmt_misc): run it with sudo"
install_pkgs debootstrap qemu-user-static binfmt-support e2fsprogs
# The versions may have changed by installing them: recompute the key.
if [[ "$inputs" != *"debootstrap $(version_of debootstrap)"*"e2fsprogs $(version_of e2fsprogs)"* ]]; then
    exec "$0" "$@"
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
if ! flock -n 9; then
    log "waiting for another build.sh to finish (lock $cache_root/.lock)"
    flock 9
fi
# Tests and documentation find the image for the current inputs through `current`.
publish_current() {
    ln -sfn "$key" "$cache_root/.current.$$"
    mv -T "$cache_root/.current.$$" "$cache_root/current"
}

if [[ "$mode" == build && -d "$out" ]]; then
    log "cached: $out"
    publish_current
    echo "$out"
    exit 0
fi

# --- binfmt_misc: riscv64 binaries run through qemu-user-static -----------------------

# binfmt-support registers qemu-riscv64 at boot through its service; in a container or a VM
# without systemd nothing did, so mount binfmt_misc and enable the entry here. The entry has the
# F flag (the interpreter is opened now), so it works inside the chroot.
if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
        die "cannot mount binfmt_misc (in a container, run it with --privileged or on the host)"
fi
if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-riscv64 ]]; then
    update-binfmts --enable qemu-riscv64 >&2 || die "update-binfmts --enable qemu-riscv64 failed"
fi
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-riscv64 ||
    echo 1 >/proc/sys/fs/binfmt_misc/qemu-riscv64

# --- build ----------------------------------------------------------------------------

log "building key $key: Debian $suite $arch ($variant + ${packages[*]}) from $mirror"
work="$(mktemp -d "${TMPDIR:-/var/tmp}/lockstep-debian.XXXXXX")"
stage="$(mktemp -d "$cache_root/.tmp-$key.XXXXXX")"
root="$work/root"
cleanup() {
    rm -rf "$stage"
    if [[ "${LOCKSTEP_KEEP_WORK:-0}" == 1 ]]; then
        log "work tree kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
# Stopped by a signal: clean up too (bash runs the EXIT trap on exit, not on a fatal signal).
trap 'exit 143' TERM
trap 'exit 130' INT
buildlog="$work/build.log"
: >"$buildlog"
run() {
    local label="$1"
    shift
    echo "### $label: $*" >>"$buildlog"
    if ! "$@" >>"$buildlog" 2>&1; then
        tail -n 60 "$buildlog" >&2
        die "$label failed (full log: $buildlog; set LOCKSTEP_KEEP_WORK=1 to keep it)"
    fi
}
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
t_start=$SECONDS
release_date="$(curl -fsS -m 30 "$mirror/dists/$suite/Release" 2>/dev/null | sed -n 's/^Date: //p' || true)"

# First stage: download and unpack on the host.
log "debootstrap first stage (download, unpack)"
t0=$SECONDS
run "debootstrap first stage" debootstrap --arch="$arch" --variant="$variant" --foreign \
    --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$root" "$mirror"
log "first stage: $((SECONDS - t0)) s"
in_root /bin/true || die "cannot run riscv64 binaries in the chroot: is qemu-riscv64 registered in binfmt_misc?"

# The second stage looks packages up in the archive's index that the first stage left in the
# target (trixie's riscv64 Packages, 54 MB) with grep and perl, many times over; under qemu-user
# that was most of the build (3 of 7 minutes of CPU). It only ever looks up the packages it
# installs, which the first stage listed in /debootstrap/debpaths: keep just their entries. (The
# index was checked against the signed Release file when it was downloaded; the second stage
# does not check it again, and the lists are removed from the image at the end.)
for index in "$root"/var/lib/apt/lists/*_Packages; do
    [[ -f "$index" ]] || die "no Packages index in $root/var/lib/apt/lists after the first stage"
    awk 'NR == FNR { wanted[$1] = 1; next }
         /^Package: / { keep = ($2 in wanted) }
         keep' "$root/debootstrap/debpaths" "$index" >"$index.lockstep"
    mv "$index.lockstep" "$index"
done

# Before the second stage: dpkg does not fsync every file (the image is written once, at the
# end), and the configuration is in place before the packages that read it are configured
# (the initrd's module list, the network, the getty drop-in).
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/lockstep-build-unsafe-io"
cp -a --no-preserve=ownership "$here/rootfs/." "$root/"

# Second stage, in the chroot under qemu-user. INITRD=No: the kernel's postinst does not make an
# initrd now (dpkg's trigger would make it a second time); it is made once, below.
log "debootstrap second stage (under qemu-user; the long part)"
t0=$SECONDS
run "debootstrap second stage" chroot "$root" /usr/bin/env -i HOME=/root \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin INITRD=No /debootstrap/debootstrap --second-stage
log "second stage: $((SECONDS - t0)) s"

# Configuration (rootfs/ again: over whatever the packages wrote; debootstrap copied the
# host's resolv.conf and hostname).
cp -a --no-preserve=ownership "$here/rootfs/." "$root/"
run "passwd -d root" in_root passwd -d root
run "enable systemd-networkd" in_root systemctl enable systemd-networkd.service
run "enable redis-server" in_root systemctl enable redis-server.service
[[ -L "$root/etc/systemd/system/multi-user.target.wants/redis-server.service" ]] ||
    die "redis-server.service is not enabled"
printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"

log "update-initramfs (under qemu-user)"
t0=$SECONDS
kver="$(cd "$root/usr/lib/modules" && ls | head -n1)"
[[ -n "$kver" && -f "$root/boot/vmlinux-$kver" ]] || die "no kernel in $root/boot"
run "update-initramfs" in_root update-initramfs -c -k "$kver"
log "initrd: $((SECONDS - t0)) s"

in_root dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' >"$stage/packages.txt"
rm -f "$root/etc/dpkg/dpkg.cfg.d/lockstep-build-unsafe-io"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
    "$root/debootstrap"
cp "$root/boot/vmlinux-$kver" "$stage/Image"
cp "$root/boot/initrd.img-$kver" "$stage/initrd.img"

# The file system: ext4 filled from the tree by mkfs (no loop mount), a fixed UUID.
log "mkfs.ext4 ($disk_size)"
run "mkfs.ext4" mkfs.ext4 -q -F -L debian-root -U 6c6f636b-7374-6570-2d64-656269616e00 \
    -d "$root" "$stage/disk.img" "$disk_size"
run "e2fsck" e2fsck -fn "$stage/disk.img"

# Publish.
printf '%s\n' "$cmdline" >"$stage/cmdline"
printf '%sarchive Release date %s\nkernel %s\n' "$inputs" "${release_date:-unknown}" "$kver" >"$stage/inputs.txt"
cp "$buildlog" "$stage/build.log"
(cd "$stage" && sha256sum Image initrd.img disk.img >SHA256SUMS)
chmod 0755 "$stage"
rm -rf "$out"
mv -T "$stage" "$out"
publish_current
log "built in $((SECONDS - t_start)) s: kernel $kver, $(du -h --apparent-size "$out/disk.img" | cut -f1) disk ($(du -h "$out/disk.img" | cut -f1) used)"
echo "$out"

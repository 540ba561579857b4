#!/usr/bin/env bash
# Builds Lockstep's Linux guest: a riscv64 kernel Image from Debian's
# linux-source-6.1 and a busybox initramfs (initramfs.cpio.gz) from Debian's
# busybox source package, with redis-server from Debian's redis source package
# in it, all with Debian's riscv64-linux-gnu cross compiler.
#
# The images are cached outside the clone, in
#     ${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}/linux/KEY/
# where KEY is a hash of every input (this script, kernel.config,
# busybox.config, init, kvd.c, diskbench.c, the exact linux-source-6.1, busybox and redis
# source versions and the cross toolchain's package versions). A build happens
# only when that directory does not exist yet; it is made in a temporary
# directory and renamed into place, so the directory is either complete or
# absent.
#
#   guests/linux/build.sh              build if needed; the last (only) line on
#                                      stdout is the image directory
#   guests/linux/build.sh --print-dir  print the image directory for the current
#                                      inputs without building; exit status 0 if
#                                      it is built, 1 if not
#   guests/linux/build.sh --force      rebuild even if the directory exists
#
# Usage from other scripts:  dir=$(guests/linux/build.sh)  then
# "$dir/Image" and "$dir/initramfs.cpio.gz".
#
# Missing Debian packages are installed with apt-get (sudo when not root). If
# apt has no deb-src entries, a deb-src twin of every existing deb entry is
# written to /etc/apt/sources.list.d/lockstep-deb-src.{sources,list} and
# apt-get update is run, so that `apt-get source busybox` (and redis) works.
# Everything but the final directory goes to stderr. Set LOCKSTEP_KEEP_WORK=1
# to keep the temporary work tree (sources and objects) for inspection.
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

log() { echo "linux: $*" >&2; }
die() { echo "linux: error: $*" >&2; exit 1; }

cross=riscv64-linux-gnu-
jobs="$(nproc 2>/dev/null || echo 2)"
cache_root="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}/linux"
# Fixed build metadata, so that the same inputs give the same bytes.
build_timestamp="2024-01-01 00:00:00 UTC"
source_date_epoch=1704067200

# --- apt helpers ------------------------------------------------------------------

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
# install PKG[=VERSION]... (only the ones not installed yet)
install_pkgs() {
    local missing=() p
    for p in "$@"; do is_installed "${p%%=*}" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    apt_update
    log "apt-get install ${missing[*]}"
    apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }'
}
candidate_or_update() {
    local v
    v="$(candidate "$1")"
    if [[ -z "$v" || "$v" == "(none)" ]]; then
        apt_update
        v="$(candidate "$1")"
    fi
    [[ -n "$v" && "$v" != "(none)" ]] || die "apt knows no package $1"
    echo "$v"
}

# Adds a deb-src entry for every deb entry in the machine's apt sources (both
# deb822 .sources files and one-line .list files), then runs apt-get update.
add_deb_src() {
    local d=/etc/apt/sources.list.d
    local deb822 oneline f
    deb822="$(for f in "$d"/*.sources; do
        [[ -e "$f" && "$f" != "$d/lockstep-deb-src.sources" ]] || continue
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
            {
                n = split($0, line, "\n"); types = ""; enabled = 1
                for (i = 1; i <= n; i++) {
                    if (line[i] ~ /^Types:/) types = line[i]
                    if (tolower(line[i]) ~ /^enabled:[ \t]*no/) enabled = 0
                }
                if (!enabled || types !~ /[ \t]deb([ \t]|$)/ || types ~ /deb-src/) next
                out = ""
                for (i = 1; i <= n; i++)
                    out = out (line[i] ~ /^Types:/ ? "Types: deb-src" : line[i]) "\n"
                printf "%s\n", out
            }' "$f"
    done)"
    oneline="$(for f in /etc/apt/sources.list "$d"/*.list; do
        [[ -e "$f" && "$f" != "$d/lockstep-deb-src.list" ]] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
    done)"
    [[ -n "$deb822$oneline" ]] || die "no deb entries in /etc/apt/sources.list{,.d} to derive deb-src entries from"
    log "adding deb-src entries derived from the existing deb entries"
    if [[ -n "$deb822" ]]; then
        printf '# Added by Lockstep guests/linux/build.sh for apt-get source.\n%s\n' "$deb822" |
            "${sudo[@]}" tee "$d/lockstep-deb-src.sources" >/dev/null
    fi
    if [[ -n "$oneline" ]]; then
        printf '# Added by Lockstep guests/linux/build.sh for apt-get source.\n%s\n' "$oneline" |
            "${sudo[@]}" tee "$d/lockstep-deb-src.list" >/dev/null
    fi
    apt_updated=0
    apt_update
}

# --- inputs and cache key -------------------------------------------------------

install_pkgs gcc-riscv64-linux-gnu libc6-dev-riscv64-cross binutils-riscv64-linux-gnu dpkg-dev

# linux-source-6.1: the installed version, or else the candidate (installed below).
if is_installed linux-source-6.1; then
    linux_ver="$(dpkg-query -W -f='${Version}' linux-source-6.1)"
else
    linux_ver="$(candidate_or_update linux-source-6.1)"
fi

# source_version BINARY: the source version of apt's candidate for the binary
# package BINARY (this works without deb-src entries); exactly that source
# version is fetched below.
source_version() {
    local bin_ver
    bin_ver="$(candidate_or_update "$1")"
    apt-cache show "$1=$bin_ver" | awk -v bin="$bin_ver" '
        /^Package:/ { if (seen) exit; seen = 1 }
        /^Source:/ { if (match($0, /\(.*\)/)) v = substr($0, RSTART + 1, RLENGTH - 2) }
        END { print (v == "" ? bin : v) }'
}
busybox_ver="$(source_version busybox)"
redis_ver="$(source_version redis-server)"

gcc_path="$(readlink -f "$(command -v ${cross}gcc)")"
gcc_pkg="$(dpkg -S "$gcc_path" | head -n1 | sed 's/: .*//')"
toolchain=""
for p in "$gcc_pkg" binutils-riscv64-linux-gnu libc6-dev-riscv64-cross linux-libc-dev-riscv64-cross; do
    toolchain+="$p $(dpkg-query -W -f='${Version}' "$p")"$'\n'
done

inputs="lockstep linux guest inputs v1
$(cd "$here" && sha256sum build.sh kernel.config busybox.config init kvd.c diskbench.c)
linux-source-6.1 $linux_ver
busybox (source) $busybox_ver
redis (source) $redis_ver
${cross}gcc $(${cross}gcc -dumpfullversion)
$toolchain"
key="$(printf '%s' "$inputs" | sha256sum | cut -c1-16)"
out="$cache_root/$key"

if [[ "$mode" == print ]]; then
    echo "$out"
    [[ -f "$out/Image" && -f "$out/initramfs.cpio.gz" ]]
    exit
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
if ! flock -n 9; then
    log "waiting for another build.sh to finish (lock $cache_root/.lock)"
    flock 9
fi
# `lockstep run` with no arguments boots $cache_root/current: point it at the images for the
# current inputs (atomically: a new link renamed over the old one).
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

# --- build ------------------------------------------------------------------------

log "building key $key: linux-source-6.1 $linux_ver, busybox $busybox_ver, redis $redis_ver, $gcc_pkg"
install_pkgs "linux-source-6.1=$linux_ver" build-essential flex bison bc libssl-dev \
    libelf-dev cpio xz-utils gzip dpkg-dev util-linux

work="$(mktemp -d "${TMPDIR:-/tmp}/lockstep-linux.XXXXXX")"
stage="$(mktemp -d "$cache_root/.tmp-$key.XXXXXX")"
cleanup() {
    rm -rf "$stage"
    if [[ "${LOCKSTEP_KEEP_WORK:-0}" == 1 ]]; then
        log "work tree kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
buildlog="$work/build.log"
: >"$buildlog"
# run LABEL CMD...: runs CMD with its output in the build log; on failure shows
# the end of the log.
run() {
    local label="$1"
    shift
    echo "### $label: $*" >>"$buildlog"
    if ! "$@" >>"$buildlog" 2>&1; then
        tail -n 80 "$buildlog" >&2
        die "$label failed (full log: $buildlog; set LOCKSTEP_KEEP_WORK=1 to keep it)"
    fi
}
t_start=$SECONDS
export SOURCE_DATE_EPOCH=$source_date_epoch KCONFIG_NOTIMESTAMP=1 LC_ALL=C

# check_fragment FRAGMENT CONFIG: every CONFIG_X=... line of FRAGMENT must be
# in CONFIG verbatim, and every "# CONFIG_X is not set" must be unset there.
check_fragment() {
    local frag="$1" cfg="$2" line sym got bad=0
    while IFS= read -r line; do
        case "$line" in
            CONFIG_*=*) sym="${line%%=*}" ;;
            "# CONFIG_"*" is not set") sym="${line#\# }"; sym="${sym%% *}" ;;
            *) continue ;;
        esac
        got="$(grep -E "^(# )?$sym[= ]" "$cfg" || true)"
        if [[ "$line" == "# $sym is not set" ]]; then
            [[ -z "$got" || "$got" == "$line" ]] && continue
        else
            [[ "$got" == "$line" ]] && continue
        fi
        echo "linux: $(basename "$frag"): asked for '$line', got '${got:-nothing (unmet dependencies)}'" >&2
        bad=1
    done <"$frag"
    ((bad == 0)) || die "$(basename "$frag") did not apply as written; fix its dependencies"
}

# Kernel ----------------------------------------------------------------------------
tarball="$(dpkg -L linux-source-6.1 | grep -E '^/usr/src/linux-source-6\.1.*\.tar\.xz$' | head -n1)"
[[ -f "$tarball" ]] || die "linux-source-6.1 installed but no tarball under /usr/src"
top="$(tar -tJf "$tarball" 2>/dev/null | head -n1 || true)"
top="${top%%/*}"
[[ -n "$top" ]] || die "cannot read $tarball"
log "extracting $(basename "$tarball")"
# Leave out what a riscv build never reads and makes up a good part of the tree:
# other architectures' sources and device trees (their Kconfig files are read),
# the documentation (but its Kconfig), perf, selftests, AMD GPU register headers.
tar -C "$work" -xJf "$tarball" \
    --exclude="$top/arch/[!rK]*/*.[chS]" --exclude="$top/arch/[!rK]*/boot/dts" \
    --exclude="$top/Documentation/[!K]*" \
    --exclude="$top/tools/perf" --exclude="$top/tools/testing" \
    --exclude="$top/drivers/gpu/drm/amd/include/asic_reg"
ksrc="$work/$top"
kobj="$work/kernel-obj"
mkdir -p "$kobj"
kmake() {
    make -C "$ksrc" O="$kobj" ARCH=riscv CROSS_COMPILE="$cross" \
        KBUILD_BUILD_TIMESTAMP="$build_timestamp" KBUILD_BUILD_USER=lockstep \
        KBUILD_BUILD_HOST=lockstep KBUILD_BUILD_VERSION=1 "$@"
}
run "kernel allnoconfig" kmake allnoconfig
run "kernel merge_config" env -C "$ksrc" ARCH=riscv CROSS_COMPILE="$cross" \
    scripts/kconfig/merge_config.sh -m -O "$kobj" "$kobj/.config" "$here/kernel.config"
run "kernel olddefconfig" kmake olddefconfig
check_fragment "$here/kernel.config" "$kobj/.config"
log "building the kernel (make -j$jobs Image)"
t0=$SECONDS
run "kernel build" kmake -j"$jobs" Image
run "gen_init_cpio" kmake usr/gen_init_cpio
log "kernel built in $((SECONDS - t0)) s"
cp "$kobj/arch/riscv/boot/Image" "$kobj/vmlinux" "$kobj/System.map" "$stage/"
cp "$kobj/.config" "$stage/kernel.config"

# fetch_source PACKAGE VERSION: `apt-get source PACKAGE=VERSION` into
# $work/PACKAGE-src (adding deb-src entries first if apt has none for it);
# prints the unpacked source directory.
fetch_source() {
    local pkg="$1" ver="$2" dir
    if ! (cd "$work" && apt-get source --print-uris "$pkg=$ver" >/dev/null 2>&1); then
        add_deb_src
        (cd "$work" && apt-get source --print-uris "$pkg=$ver" >/dev/null 2>&1) ||
            die "apt-get source $pkg=$ver does not resolve even with deb-src entries"
    fi
    log "apt-get source $pkg=$ver"
    mkdir -p "$work/$pkg-src"
    run "apt-get source $pkg" env -C "$work/$pkg-src" apt-get source -q "$pkg=$ver"
    dir="$(find "$work/$pkg-src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n1)"
    [[ -d "$dir" ]] || die "apt-get source $pkg unpacked nothing"
    echo "$dir"
}

# Busybox ---------------------------------------------------------------------------
bbsrc="$(fetch_source busybox "$busybox_ver")"
bbmake() { make -C "$bbsrc" CROSS_COMPILE="$cross" "$@"; }
run "busybox defconfig" bbmake defconfig
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*) sym="${line%%=*}" ;;
        "# CONFIG_"*" is not set") sym="${line#\# }"; sym="${sym%% *}" ;;
        *) continue ;;
    esac
    sed -i -E "/^(# )?$sym[= ]/d" "$bbsrc/.config"
    echo "$line" >>"$bbsrc/.config"
done <"$here/busybox.config"
run "busybox oldconfig" bash -c 'yes "" | "$@"' _ make -C "$bbsrc" CROSS_COMPILE="$cross" oldconfig
check_fragment "$here/busybox.config" "$bbsrc/.config"
log "building busybox (make -j$jobs)"
t0=$SECONDS
run "busybox build" bbmake -j"$jobs"
rootfs="$work/rootfs"
run "busybox install" bbmake CONFIG_PREFIX="$rootfs" install
log "busybox built in $((SECONDS - t0)) s"
[[ "$(${cross}readelf -l "$rootfs/bin/busybox")" != *INTERP* ]] || die "busybox is not static"
cp "$bbsrc/.config" "$stage/busybox.config"

# kvd, the key-value service (/init runs it with lockstep.service=kv) ------------------
run "kvd build" "${cross}gcc" -static -O2 -Wall -Wextra -Werror -o "$work/kvd" "$here/kvd.c"
[[ "$(${cross}readelf -l "$work/kvd")" != *INTERP* ]] || die "kvd is not static"
install -D -m 0755 "$work/kvd" "$rootfs/usr/bin/kvd"

# diskbench, the guest side of benchmarks/disk.sh --------------------------------------
run "diskbench build" "${cross}gcc" -static -O2 -Wall -Wextra -Werror -o "$work/diskbench" "$here/diskbench.c"
install -D -m 0755 "$work/diskbench" "$rootfs/usr/bin/diskbench"

# redis-server (/init runs it with lockstep.service=redis) ----------------------------
# The bundled dependencies it links (hiredis, lua, hdr_histogram) are built by
# the same make with the same CC, AR, RANLIB and CFLAGS; glibc malloc instead of
# the bundled jemalloc; no TLS, no systemd. uname_M names the target for the
# Makefile's per-machine choices (it would otherwise look at the build machine).
# The work tree's path is mapped away in the debug info, which the build ID is
# a hash of, so that the stripped binary does not depend on it; the release
# header's build id comes from SOURCE_DATE_EPOCH.
rsrc="$(fetch_source redis "$redis_ver")"
log "building redis-server (make -j$jobs)"
t0=$SECONDS
run "redis build" make -C "$rsrc" -j"$jobs" CC="${cross}gcc" AR="${cross}ar" \
    RANLIB="${cross}ranlib" CFLAGS="-ffile-prefix-map=$rsrc=redis" MALLOC=libc \
    BUILD_TLS=no USE_SYSTEMD=no LDFLAGS=-static uname_M=riscv64 redis-server
log "redis-server built in $((SECONDS - t0)) s"
[[ "$(${cross}readelf -l "$rsrc/src/redis-server")" != *INTERP* ]] || die "redis-server is not static"
install -d "$rootfs/usr/bin"
run "redis strip" "${cross}strip" -o "$rootfs/usr/bin/redis-server" "$rsrc/src/redis-server"

# Initramfs -------------------------------------------------------------------------
rm -f "$rootfs/linuxrc"
mkdir -p "$rootfs"/{dev,proc,sys,tmp,mnt,root,etc,run,var/www}
install -m 0755 "$here/init" "$rootfs/init"
# What httpd serves with lockstep.service=http.
cat >"$rootfs/var/www/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>Lockstep</title></head>
<body><p>Hello from Lockstep's Linux guest (busybox httpd).</p></body></html>
EOF
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
cat >"$rootfs/etc/shinit" <<'EOF'
PS1='~ # '
alias halt='sync; halt -f' poweroff='sync; poweroff -f' reboot='sync; reboot -f'
EOF
find "$rootfs" -exec touch -h -d "@$source_date_epoch" {} +
# The kernel opens /dev/console for /init before /init can mount devtmpfs.
printf 'nod /dev/console 0600 0 0 c 5 1\n' >"$work/initramfs.extra"
run "gen_initramfs" env -C "$kobj" KBUILD_BUILD_TIMESTAMP="$build_timestamp" \
    sh "$ksrc/usr/gen_initramfs.sh" -o "$work/initramfs.cpio" -u squash -g squash \
    "$rootfs" "$work/initramfs.extra"
gzip -9 -n <"$work/initramfs.cpio" >"$stage/initramfs.cpio.gz"

# Publish ---------------------------------------------------------------------------
printf '%s' "$inputs" >"$stage/inputs.txt"
cp "$buildlog" "$stage/build.log"
(cd "$stage" && sha256sum Image initramfs.cpio.gz >SHA256SUMS)
chmod 0755 "$stage"
rm -rf "$out"
mv -T "$stage" "$out"
publish_current
log "built in $((SECONDS - t_start)) s: $(du -h "$out/Image" | cut -f1) Image, $(du -h "$out/initramfs.cpio.gz" | cut -f1) initramfs"
echo "$out"

#!/usr/bin/env bash
# Build the Debian systemd container images the Molecule scenarios boot, without a registry:
# debootstrap a minimal rootfs from the host's own apt mirror, then `podman import` it.
# Images that already exist are skipped, so this is cheap to call before every run.
#
# Usage: tests/harness/build-images.sh [bookworm] [trixie]   (default: both)
set -euo pipefail

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(bookworm trixie)

image_name() {
  case "$1" in
    bookworm) echo "localhost/hostnative-devpi-debian:12" ;;
    trixie) echo "localhost/hostnative-devpi-debian:13" ;;
    *) echo "unknown suite '$1' (expected bookworm or trixie)" >&2; return 2 ;;
  esac
}

# The mirror comes from the host's apt sources (deb822 first, then the classic list), never a hard-coded host.
apt_mirror() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '/^deb / && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { echo "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2; return 1; }
  echo "$uri"
}

mirror=$(apt_mirror)
for suite in "${suites[@]}"; do
  image=$(image_name "$suite")
  if podman image exists "$image"; then
    echo "image $image exists, skipping"
    continue
  fi
  rootfs=$(mktemp -d "/var/tmp/devpi-rootfs-$suite.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  echo "building $image from $mirror ($suite)"
  debootstrap --variant=minbase \
    --include=python3,systemd,systemd-sysv,dbus,ca-certificates,curl,sudo,procps,iproute2 \
    "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; exit 1; }
  # A container has no consoles to spawn getty on, and no need for these units; keep boot quiet and fast.
  for unit in getty.target systemd-logind.service console-getty.service; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' - "$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  trap - EXIT
  echo "built $image"
done

#!/usr/bin/env bash
# Make a Debian base image for the Dockerfile without a container registry, print its name.
#   IMAGE=$(deploy/container/base-image.sh) && podman build --build-arg BASE=$IMAGE ...
# The debootstrapped tree is kept as a tarball in ~/.cache/govcloud/ under a hash of this script
# (suite, mirror, packages), so a second run only imports it, and a run whose podman already holds
# the image does nothing. Needs root, debootstrap and podman (scripts/sysdeps.sh installs them).
set -euo pipefail
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# python3 is 3.11 on bookworm, as in python:3.11-slim; the image installs into a venv (PEP 668)
PACKAGES=python3,python3-venv,ca-certificates
CACHE=${GOVCLOUD_CACHE:-$HOME/.cache/govcloud}
KEY=$( { cat "$0"; echo "$SUITE $MIRROR $PACKAGES"; } | sha256sum | cut -c1-12)
IMAGE=localhost/govcloud-base:$KEY
TARBALL=$CACHE/debian-$SUITE-$KEY.tar
PODMAN=(podman --cgroup-manager=cgroupfs --runtime /usr/sbin/runc)

if "${PODMAN[@]}" image exists "$IMAGE"; then echo "$IMAGE"; exit 0; fi
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
  root=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >&2
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
fi
"${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' "$TARBALL" "$IMAGE" >&2
echo "$IMAGE"

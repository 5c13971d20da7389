#!/usr/bin/env bash
# Install the Debian packages govcloud's services and tests need, only those missing.
set -euo pipefail
pkgs=(mariadb-server rabbitmq-server postgresql chromium fonts-noto-cjk fonts-wqy-zenhei poppler-utils
      openssh-server openssh-client prometheus prometheus-alertmanager)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "sysdeps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from starting daemons: services.sh starts what is needed.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

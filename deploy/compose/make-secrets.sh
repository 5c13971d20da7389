#!/usr/bin/env bash
# Make the secrets of the Compose deployment in secrets/ (once; an existing file is kept).
# The TLS pair is self-signed for a first start: replace tls.crt/tls.key with the city's certificate.
# clouds.yaml (the OpenStack account of govcloud, cloud name "govcloud" or GOVCLOUD_CLOUD) is copied by hand.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
HOST=${GOVCLOUD_HOST:-govcloud.example.gov.cn}
random() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
keep() { [ -s "secrets/$1" ]; }
keep postgres-password || random > secrets/postgres-password
keep metrics.token || random > secrets/metrics.token
keep grafana-password || random > secrets/grafana-password
if ! keep govcloud.toml; then
  cat > secrets/govcloud.toml <<TOML
# govcloud settings of every process (config/govcloud.example.toml explains each key)
DATABASE_URL = "postgresql+psycopg://govcloud:$(cat secrets/postgres-password)@postgres:5432/govcloud"
SECRET_KEY = "$(random)"
TOML
fi
if ! keep tls.key; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 90 -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" \
    -keyout secrets/tls.key -out secrets/tls.crt 2>/dev/null
fi
keep clouds.yaml || echo "secrets/clouds.yaml is missing: copy govcloud's clouds.yaml there" >&2
# the containers run as uid 10001 (govcloud), Prometheus as 65534, Grafana as 472: Compose mounts
# file secrets as they are, so they must be readable by those users
chmod 0444 secrets/*
ls -l secrets

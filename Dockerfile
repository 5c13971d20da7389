# govcloud portal image: gunicorn on port 8080, as a non-root user.
#   docker build -t govcloud-portal .
#   docker run -p 8080:8080 -e GOVCLOUD_SECRET_KEY=... [-e GOVCLOUD_DATABASE_URL=postgresql+psycopg://...] \
#              -e GOVCLOUD_CLOUDS_YAML=/etc/openstack/clouds.yaml -v /etc/openstack:/etc/openstack:ro \
#              -v govcloud-data:/var/lib/govcloud govcloud-portal
# Without GOVCLOUD_DATABASE_URL the portal keeps a SQLite file in /var/lib/govcloud.
# /metrics answers loopback inside the container only; Prometheus in another container or host sends
# the bearer token: add -e GOVCLOUD_METRICS_BEARER_TOKEN_FILE=/run/secrets/govcloud-metrics.token
# -v /etc/govcloud/metrics.token:/run/secrets/govcloud-metrics.token:ro (the same secret as
# Prometheus's credentials_file, config/prometheus/prometheus.yml), or GOVCLOUD_METRICS_ALLOWED_NETWORKS.
# Behind a TLS proxy the session cookie is Secure (the default outside debug and testing).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GOVCLOUD_INSTANCE_PATH=/var/lib/govcloud

WORKDIR /srv/govcloud
COPY pyproject.toml setup.cfg requirements.lock README.md* ./
COPY portal ./portal
COPY provisioner ./provisioner
COPY monitoring ./monitoring
COPY scheduler ./scheduler
COPY backup ./backup
# The lock pins every version; installing the package (not editable) brings templates,
# static files, compiled translations and migrations along as package data.
RUN pip install -c requirements.lock . \
 && useradd --system --uid 10001 --home-dir /var/lib/govcloud --shell /usr/sbin/nologin govcloud \
 && mkdir -p /var/lib/govcloud && chown govcloud:govcloud /var/lib/govcloud

USER govcloud
VOLUME ["/var/lib/govcloud"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
# Migrate first (idempotent), then serve.
CMD ["sh", "-c", "govcloud db upgrade && exec gunicorn --bind 0.0.0.0:8080 --workers 2 --access-logfile - --error-logfile - portal.wsgi:app"]

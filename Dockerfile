# govcloud image: one image for the portal (gunicorn on port 8080), `govcloud worker` and
# `govcloud scheduler`, as a non-root user. deploy/ runs it with Compose and on Kubernetes.
#   docker build -t govcloud .                       (base python:3.11-slim from a registry)
#   podman build --build-arg BASE=$(deploy/container/base-image.sh) -t govcloud .   (no registry:
#                                                     a debootstrapped Debian 12; tests/integration/test_container_image.py)
#   docker run -p 8080:8080 -e GOVCLOUD_SECRET_KEY=... [-e GOVCLOUD_DATABASE_URL=postgresql+psycopg://...] \
#              -e GOVCLOUD_CLOUDS_YAML=/etc/openstack/clouds.yaml -v /etc/openstack:/etc/openstack:ro \
#              -v govcloud-data:/var/lib/govcloud govcloud
# Without GOVCLOUD_DATABASE_URL the portal keeps a SQLite file in /var/lib/govcloud.
# /metrics answers loopback inside the container only; Prometheus in another container or host sends
# the bearer token: add -e GOVCLOUD_METRICS_BEARER_TOKEN_FILE=/run/secrets/govcloud-metrics.token
# -v /etc/govcloud/metrics.token:/run/secrets/govcloud-metrics.token:ro (the same secret as
# Prometheus's credentials_file, config/prometheus/prometheus.yml), or GOVCLOUD_METRICS_ALLOWED_NETWORKS.
# Behind a TLS proxy the session cookie is Secure (the default outside debug and testing).
# gunicorn reads deploy/gunicorn.conf.py (bind, workers, threads: GOVCLOUD_BIND, GOVCLOUD_WEB_WORKERS,
# GOVCLOUD_WEB_THREADS).
ARG BASE=python:3.11-slim
FROM ${BASE}

# the host's CA bundle may be mounted at build time for pip (podman build -v /etc/ssl/certs:...:ro)
ARG PIP_CERT
ARG PIP_INDEX_URL
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/govcloud \
    PATH=/opt/govcloud/bin:$PATH \
    GOVCLOUD_INSTANCE_PATH=/var/lib/govcloud

WORKDIR /srv/govcloud
# The dependencies first, pinned by the lock: this layer is reused until setup.cfg or the lock changes.
COPY pyproject.toml setup.cfg requirements.lock ./
RUN python3 -m venv /opt/govcloud \
 && python3 -c "import configparser; c = configparser.ConfigParser(); c.read('setup.cfg'); \
print('\n'.join(r for r in c['options']['install_requires'].split('\n') if r.strip()))" > runtime-requirements.txt \
 && pip install -c requirements.lock -r runtime-requirements.txt
COPY README.md* ./
COPY portal ./portal
COPY provisioner ./provisioner
COPY monitoring ./monitoring
COPY scheduler ./scheduler
COPY backup ./backup
COPY deploy/gunicorn.conf.py ./gunicorn.conf.py
# Installing the package (not editable) brings templates, static files, compiled translations and
# migrations along as package data.
RUN pip install --no-deps . \
 && useradd --system --uid 10001 --home-dir /var/lib/govcloud --shell /usr/sbin/nologin govcloud \
 && mkdir -p /var/lib/govcloud && chown govcloud:govcloud /var/lib/govcloud

USER govcloud
VOLUME ["/var/lib/govcloud"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('GOVCLOUD_BIND', ':8080').rsplit(':', 1)[1]; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]
# Migrate first (idempotent; with several portals one wins the lock, the others find it done),
# then serve. Workers and schedulers run the same image with `govcloud worker` / `govcloud scheduler`.
CMD ["sh", "-c", "govcloud db upgrade && exec gunicorn portal.wsgi:app"]

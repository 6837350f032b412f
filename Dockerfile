# policykit decision service: `policykit serve` (docs/serve.md).
#
#   docker build -t policykit .
#   docker run --rm -p 127.0.0.1:8411:8411 -e POLICYKIT_SERVE_TOKEN="$(cat token)" policykit
#   docker run ... -v "$PWD/policies:/policies:ro" policykit --policy /policies   # the city's own .pol files
#
# The server listens on 0.0.0.0 inside the container, so it refuses to start without a bearer token
# (POLICYKIT_SERVE_TOKEN, or --token-file pointing at a mounted secret). It runs as an unprivileged
# user, offline, with no compiler or build tools in the final image.

FROM python:3.12-slim AS build
WORKDIR /src
# Only what the wheel is built from (see .dockerignore); src/policykit/policies links to ../../policies.
COPY pyproject.toml README.md ./
COPY policies ./policies
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[serve,postgres]"

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# /data: where a decision log's archive goes (mount a volume there: --archive /data/decisions.db)
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin policykit \
 && mkdir /data && chown policykit /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "policykit[serve,postgres]" && rm -rf /wheels
USER policykit
WORKDIR /tmp
EXPOSE 8411
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8411/healthz', timeout=4)"]
ENTRYPOINT ["policykit", "serve", "--host", "0.0.0.0", "--port", "8411"]
CMD []

# OrthoLens image for the scaled deployment (see docker-compose.yml and the README).
# Not built by CI here (no Docker engine on the build machines); kept in step with ./run by hand.

FROM node:20-bookworm-slim AS web-assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY ortholens ./ortholens
RUN uv sync --frozen --no-dev
COPY --from=web-assets /build/node_modules /app/node_modules

RUN useradd --system --uid 10001 --home-dir /app ortholens \
    && mkdir -p /data /keys && chown ortholens /data /keys
USER ortholens
ENV ORTHOLENS_DATA_DIR=/data \
    ORTHOLENS_KEY_DIR=/keys \
    ORTHOLENS_WEB_ASSETS_DIR=/app/node_modules
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
# API replicas run without an in-process worker; `ortholens worker` containers do the jobs.
CMD ["ortholens", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]

# Two stages: build a virtualenv with the service installed, then copy it into a slim runtime
# that runs as an unprivileged user. The container applies migrations, then serves.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /venv
COPY pyproject.toml constraints.txt ./
COPY api ./api
COPY service ./service
COPY db ./db
COPY cli ./cli
COPY migrations ./migrations
RUN /venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim
# Pango and the Noto CJK fonts: credit reports as PDF (WeasyPrint), in Chinese.
COPY scripts/apt-install.sh scripts/ensure-pdf.sh /tmp/scripts/
RUN REQUIRE_PDF=1 /tmp/scripts/ensure-pdf.sh && rm -rf /var/lib/apt/lists/* /tmp/scripts
RUN useradd --system --uid 10001 --home-dir /var/lib/registry --create-home registry
COPY --from=build /venv /venv
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    REGISTRY_ENVIRONMENT=production \
    REGISTRY_DATA_DIR=/var/lib/registry \
    REGISTRY_HOST=0.0.0.0 \
    REGISTRY_PORT=8000
USER registry
WORKDIR /var/lib/registry
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)" || exit 1
# `serve` applies pending migrations before it starts listening.
CMD ["credit-registry", "serve"]

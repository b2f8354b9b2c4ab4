# mcp-pii as a container: the MCP server on Streamable HTTP, port 8765.
#
#   docker build -t mcp-pii .
#   docker run --rm -p 8765:8765 -e MCP_PII_AUTH_TOKEN=change-me mcp-pii
#
# Stage 1 builds the abi3 wheel with scripts/build-wheel.sh, the script `make dist` runs (so the
# build is tested where no container engine runs); stage 2 is a slim Python with only that wheel
# installed, run as an unprivileged user. The wheels workflow builds and checks this image.

FROM rust:1-slim-bookworm AS wheel
RUN apt-get update \
    && apt-get install --yes --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir "maturin>=1.8,<2" ziglang
ENV PATH=/opt/build/bin:$PATH
WORKDIR /src
COPY . .
RUN scripts/build-wheel.sh /wheels

FROM python:3.12-slim-bookworm
COPY --from=wheel /wheels/ /wheels/
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mcp
USER mcp
ENV PYTHONUNBUFFERED=1
EXPOSE 8765
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --start-interval=2s --retries=3 CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["mcp-pii"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8765"]

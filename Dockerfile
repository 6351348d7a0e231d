# The Vigie image: one image for every role. `vigie serve` (a web node) by default; the same
# image runs `vigie worker`, `vigie audit verify-store`, `vigie privacy erase`...
# Build: docker build -t vigie .        Run the whole platform: see deploy/compose.yaml.
FROM python:3.11-slim-bookworm AS build
WORKDIR /build
# Only what the package needs: tests, benchmarks and docs stay out of the image.
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim-bookworm
# The detectors (OpenCV) and the media stack (PyAV) bring their own libraries in their
# wheels; libgl is not needed by the headless OpenCV build.
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/vigie vigie
COPY --from=build /install /usr/local
USER vigie
WORKDIR /var/lib/vigie
# JSON lines on stdout for the log collector; the request id is in every line.
ENV VIGIE_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
ENTRYPOINT ["vigie"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

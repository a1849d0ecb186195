# product-store/python-base:3.11-bookworm: Debian's Python 3.11 (the workspace's version),
# standing in for python:3.11-slim-bookworm where no registry is reachable.
ARG DEBIAN_BASE=product-store/debian-base:bookworm
FROM ${DEBIAN_BASE}
RUN apt-get update -qq \
    && apt-get install -y -qq python3.11 ca-certificates >/dev/null \
    && ln -s /usr/bin/python3.11 /usr/local/bin/python3 \
    && ln -s /usr/bin/python3.11 /usr/local/bin/python \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
CMD ["python3"]

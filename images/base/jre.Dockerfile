# product-store/jre-base:17-bookworm: Debian's OpenJDK 17 JRE, standing in for
# eclipse-temurin:17-jre where no registry is reachable.
ARG DEBIAN_BASE=product-store/debian-base:bookworm
FROM ${DEBIAN_BASE}
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update -qq \
    && apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
CMD ["bash"]

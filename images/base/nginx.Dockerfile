# product-store/nginx-base:bookworm: Debian's nginx (the package the local stack runs) and envsubst, standing in for the
# nginx image where no registry is reachable.
ARG DEBIAN_BASE=product-store/debian-base:bookworm
FROM ${DEBIAN_BASE}
RUN apt-get update -qq \
    && apt-get install -y -qq nginx gettext-base >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /etc/nginx/sites-enabled/*
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]

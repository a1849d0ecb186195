# product-store/debian-base:bookworm: the `debootstrap --variant=minbase bookworm` rootfs
# that `make base-image` imported, plus what `docker import` cannot set.
ARG ROOTFS
FROM ${ROOTFS}
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
COPY debian.sources /etc/apt/sources.list.d/debian.sources
RUN rm -f /etc/apt/sources.list \
    && mkdir -p /var/lib/apt/lists/partial /var/cache/apt/archives/partial \
    && printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
       > /etc/apt/apt.conf.d/90no-recommends
STOPSIGNAL SIGTERM
CMD ["bash"]

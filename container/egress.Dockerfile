# octo egress sidecar image: tinyproxy and socat for the sidecar of a session whose `[network] egress` is
# "allowlist" or "none" (server/runtime/egress-proxy.ts). Built by octo itself when missing
# (server/runtime/egress-image.ts), with the packages from the Debian mirror unless the base has them.
ARG BASE_IMAGE=localhost/octo-base:bookworm
FROM ${BASE_IMAGE}
RUN set -eu; \
    if ! command -v tinyproxy >/dev/null || ! command -v socat >/dev/null; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tinyproxy socat; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    id proxy >/dev/null 2>&1 || useradd -r -u 13128 proxy
USER proxy

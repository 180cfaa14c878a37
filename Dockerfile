# syntax=docker/dockerfile:1
# mirrord-mcp-server for a cluster: the server, a pinned and checksummed mirrord, tini as PID 1.
#   docker build -t REGISTRY/mirrord-mcp-server:0.1.0 .
#   docker build --build-arg MIRRORD_VERSION=3.250.0 --build-arg MIRRORD_SHA256=<sha256 of the .zip> \
#                --build-arg EXTRA_PACKAGES="python3 make g++" -t ... .
# Build arguments used in a stage are declared again inside it (a FROM ends their scope).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- Build: compile TypeScript, then keep only the production dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- mirrord: the release asset, checked against its published sha256 (and against the pin, when given).
FROM ${NODE_IMAGE} AS mirrord
ARG MIRRORD_VERSION=3.250.0
# sha256 of mirrord_linux_<arch>.zip; empty = trust the release's own .shasum256 file only. Pin it for
# reproducible, tamper-evident builds.
ARG MIRRORD_SHA256=""
ARG MIRRORD_RELEASES=https://github.com/metalbear-co/mirrord/releases/download
ARG TARGETARCH
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    case "${TARGETARCH:-amd64}" in \
      amd64) arch=x86_64 ;; \
      arm64) arch=aarch64 ;; \
      *) echo "unsupported architecture ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    asset="mirrord_linux_${arch}"; \
    cd /tmp; \
    curl -fsSL --retry 3 -o "${asset}.zip" "${MIRRORD_RELEASES}/${MIRRORD_VERSION}/${asset}.zip"; \
    curl -fsSL --retry 3 -o "${asset}.shasum256" "${MIRRORD_RELEASES}/${MIRRORD_VERSION}/${asset}.shasum256"; \
    published="$(awk '{print $1; exit}' "${asset}.shasum256")"; \
    if [ -n "${MIRRORD_SHA256}" ] && [ "${MIRRORD_SHA256}" != "${published}" ]; then \
      echo "MIRRORD_SHA256 ${MIRRORD_SHA256} differs from the release's ${published}" >&2; exit 1; \
    fi; \
    echo "${published}  ${asset}.zip" | sha256sum -c -; \
    unzip -q "${asset}.zip" -d unpacked; \
    binary="$(find unpacked -type f -name mirrord | head -n 1)"; \
    [ -n "${binary}" ] || { echo "no mirrord binary in ${asset}.zip" >&2; exit 1; }; \
    install -D -m 0755 "${binary}" /opt/mirrord/bin/mirrord; \
    /opt/mirrord/bin/mirrord --version | grep -qx "mirrord ${MIRRORD_VERSION}"; \
    rm -rf /tmp/*

# --- Runtime: Debian (glibc: mirrord's layer does not work on musl), non-root, tini as PID 1.
FROM ${NODE_IMAGE}
# Tools a typical command needs; add toolchains with EXTRA_PACKAGES (Debian package names).
ARG EXTRA_PACKAGES=""
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates curl git openssh-client procps ${EXTRA_PACKAGES} \
 && rm -rf /var/lib/apt/lists/*
# uid/gid 10001 match the chart's runAsUser/runAsGroup/fsGroup.
RUN groupadd --gid 10001 mirrord \
 && useradd --uid 10001 --gid 10001 --home-dir /home/mirrord --create-home --shell /bin/sh mirrord \
 && install -d -o 10001 -g 10001 -m 0700 /home/mirrord/.mirrord \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/mirrord-mcp-server /var/lib/mirrord-mcp-server/workspaces
COPY --from=mirrord /opt/mirrord /opt/mirrord
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# /tmp must allow exec (mirrord extracts its layer .so into $TMPDIR); $HOME/.mirrord must be writable.
# In the chart both are emptyDir volumes, because the root filesystem is read-only there.
ENV NODE_ENV=production \
    HOME=/home/mirrord \
    TMPDIR=/tmp \
    PATH=/opt/mirrord/bin:$PATH
USER 10001:10001
EXPOSE 3000
# tini reaps orphans: mirrord's internal proxy is reparented to PID 1 and must be waited for.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "/app/dist/cli.js"]

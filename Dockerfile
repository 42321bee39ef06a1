# Boka container image. Two stages: `build` installs every dependency, compiles to dist/ and
# prunes to production dependencies; `runtime` holds only node, dist/ and those dependencies.
# NODE_IMAGE is any Debian-based image with node and npm on PATH: the official slim image by
# default, or the local base built from Debian packages by scripts/container-base.sh.
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Optional build secret `ca`: a CA bundle for a TLS-intercepting proxy between the build and
# the npm registry (CI sandboxes). Mounted for this step only; never part of a layer.
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts/build.mjs ./scripts/build.mjs
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -f dist/.tsbuildinfo

FROM ${NODE_IMAGE} AS runtime
ARG BOKA_VERSION=0.0.0
ARG BOKA_REVISION=unknown
ARG BOKA_CREATED=
LABEL org.opencontainers.image.title="Boka" \
      org.opencontainers.image.description="Multi-tenant booking API" \
      org.opencontainers.image.version="${BOKA_VERSION}" \
      org.opencontainers.image.revision="${BOKA_REVISION}" \
      org.opencontainers.image.created="${BOKA_CREATED}" \
      org.opencontainers.image.licenses="MIT"
# The data directory lives one level below the volume: the generated secret key and the
# directory's lock file sit next to it (/data/secret.key, /data/db.lock), and a restore can
# move /data/db aside, which it cannot do to a mount point.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    BOKA_DATA_DIR=/data/db \
    BACKUP_DIR=/data/backups \
    BOKA_VERSION=${BOKA_VERSION}
RUN groupadd --system --gid 10001 boka \
 && useradd --system --uid 10001 --gid boka --home-dir /data --no-create-home --shell /usr/sbin/nologin boka \
 && mkdir -p /data && chown boka:boka /data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# node itself is PID 1: it receives the runtime's SIGTERM and drains (src/main.ts). No npm or
# shell in between, which would not pass the signal on.
CMD ["node", "dist/main.js"]

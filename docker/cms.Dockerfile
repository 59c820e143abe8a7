# Strapi 5 (apps/cms, @pilot/cms) on SQLite, its database and uploads on volumes.
#
#   docker build -f docker/cms.Dockerfile -t pilot/cms .
#
# Stages:
#   prune    `turbo prune @pilot/cms --docker` (see service.Dockerfile for why not `pnpm deploy`).
#   build    production dependencies only (`pnpm install --prod`; Strapi's admin bundler is a
#            production dependency of @strapi/strapi), then the admin panel via `pnpm run build` (scripts/build-admin.js: Strapi's build without its TypeScript step, whose tsconfig extends a dev-only package).
#   runtime  slim Node 24, non-root, writable only where Strapi writes (.tmp, public/uploads).
#
# better-sqlite3 ships N-API prebuilds inside its npm package and sharp takes its binaries from
# @img/* npm packages: no compiler and no network beyond the npm registry.

ARG NODE_VERSION=24.21.0
ARG PNPM_VERSION=10.34.8
ARG TURBO_VERSION=2.11.11

FROM node:${NODE_VERSION}-bookworm-slim AS prune
ARG TURBO_VERSION
WORKDIR /repo
RUN npm install --global --no-audit --no-fund --loglevel=error "turbo@${TURBO_VERSION}"
COPY . .
RUN turbo prune @pilot/cms --docker --out-dir /out

FROM node:${NODE_VERSION}-bookworm-slim AS build
ARG PNPM_VERSION
ENV CI=true \
    NODE_ENV=production \
    STRAPI_TELEMETRY_DISABLED=true
RUN npm install --global --no-audit --no-fund --loglevel=error "pnpm@${PNPM_VERSION}"
WORKDIR /app
COPY --from=prune /out/json/ ./
RUN --mount=type=cache,id=pilot-pnpm-store,target=/pnpm-store \
    pnpm install --prod --frozen-lockfile --filter-prod "@pilot/cms..." \
      --store-dir /pnpm-store --package-import-method copy
COPY --from=prune /out/full/ ./
# The admin panel build (apps/cms/build). Build-time placeholders only: the real secrets are
# runtime environment (docker-compose.yml / Kubernetes Secret) and never baked into the image.
WORKDIR /app/apps/cms
RUN APP_KEYS=build-only ADMIN_JWT_SECRET=build-only API_TOKEN_SALT=build-only \
    TRANSFER_TOKEN_SALT=build-only ENCRYPTION_KEY=build-only \
    pnpm run build \
 && rm -rf .strapi/client node_modules/.cache .tmp

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CMS_HOST=0.0.0.0 \
    CMS_PORT=1337 \
    CMS_ADMIN=on \
    STRAPI_TELEMETRY_DISABLED=true \
    HEALTH_URL=http://127.0.0.1:1337/_health
WORKDIR /app
COPY --from=build /app ./
WORKDIR /app/apps/cms
# SQLite database (.tmp/data.db) and uploads live on volumes; a fresh named volume copies
# this ownership, so the non-root user can write there and nowhere else.
RUN mkdir -p .tmp public/uploads \
 && chown -R node:node .tmp public/uploads
VOLUME ["/app/apps/cms/.tmp", "/app/apps/cms/public/uploads"]
USER node
EXPOSE 1337
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=5 \
  CMD ["node", "-e", "fetch(process.env.HEALTH_URL,{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "scripts/start.js"]

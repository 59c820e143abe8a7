# One recipe for the three Node services: legacy (Express), modern (Fastify) and the gateway.
# They differ only in which workspace package they run, where it lives and which port it
# listens on, so those are build arguments (docker-compose.yml passes them per service):
#
#   docker build -f docker/service.Dockerfile \
#     --build-arg APP_PACKAGE=@pilot/legacy --build-arg APP_DIR=apps/legacy --build-arg APP_PORT=3001 \
#     -t migration-pilot/legacy .
#   (gateway: APP_PACKAGE=@pilot/gateway APP_DIR=gateway APP_PORT=8080 HEALTH_PORT=8081 HEALTH_PATH=/healthz)
#
# Stages:
#   prune    `turbo prune --docker`: the workspace cut down to the app and the workspace
#            packages it imports, plus a lockfile pruned to match.
#   deps     `pnpm install --prod --frozen-lockfile` of that pruned workspace: production
#            dependencies of this app only (no devDependencies, no other app's packages).
#   runtime  slim Node 24, the pruned sources and node_modules, non-root, HEALTHCHECK.
#
# Why turbo prune and not `pnpm deploy`: the services run their TypeScript directly on Node's
# type stripping, and the workspace packages export ./src/index.ts. `pnpm deploy` copies those
# packages into node_modules, where Node refuses to strip types (ERR_UNKNOWN_FILE_EXTENSION /
# ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING). A pruned workspace keeps them as workspace
# links outside node_modules, exactly as in development. See packages/deploy-checks/README.md.
#
# Network at build time: the base image and the npm registry only (no apt, no downloads).

ARG NODE_VERSION=24.21.0
ARG PNPM_VERSION=10.34.8
ARG TURBO_VERSION=2.11.11

FROM node:${NODE_VERSION}-bookworm-slim AS prune
ARG TURBO_VERSION
ARG APP_PACKAGE
WORKDIR /repo
RUN npm install --global --no-audit --no-fund --loglevel=error "turbo@${TURBO_VERSION}"
COPY . .
RUN test -n "${APP_PACKAGE}" || { echo "build arg APP_PACKAGE is required (e.g. @pilot/legacy)" >&2; exit 1; } \
 && turbo prune "${APP_PACKAGE}" --docker --out-dir /out

FROM node:${NODE_VERSION}-bookworm-slim AS deps
ARG PNPM_VERSION
ARG APP_PACKAGE
ENV CI=true
RUN npm install --global --no-audit --no-fund --loglevel=error "pnpm@${PNPM_VERSION}"
WORKDIR /app
# Manifests and the pruned lockfile first: this layer is rebuilt only when dependencies change.
# --filter-prod, not --filter: the latter follows workspace devDependencies too (packages/content
# → @pilot/cms for its tests) and would put all of Strapi into every image.
COPY --from=prune /out/json/ ./
RUN --mount=type=cache,id=pilot-pnpm-store,target=/pnpm-store \
    pnpm install --prod --frozen-lockfile --filter-prod "${APP_PACKAGE}..." \
      --store-dir /pnpm-store --package-import-method copy
COPY --from=prune /out/full/ ./

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG APP_DIR
ARG APP_PORT
# The apps answer GET /health on their only port; the gateway GET /healthz on its admin port.
ARG HEALTH_PORT=${APP_PORT}
ARG HEALTH_PATH=/health
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=${APP_PORT} \
    HEALTH_URL=http://127.0.0.1:${HEALTH_PORT}${HEALTH_PATH}
WORKDIR /app
# Owned by root and read-only for the service user: the process cannot rewrite its own code.
COPY --from=deps /app ./
WORKDIR /app/${APP_DIR}
USER node
EXPOSE ${APP_PORT}
# The slim image has no curl: Node's fetch does the probe. HEALTH_URL can be overridden at run time.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTH_URL,{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# the V8 flags of scripts/lib/node-flags.ts (why: there)
CMD ["node", "--max-semi-space-size=16", "src/server.ts"]

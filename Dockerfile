# syntax=docker/dockerfile:1
# IAM Istruzione — production image. Build: docker build -t iam-istruzione .
# Run with docker-compose.yml (PostgreSQL, Redis, Mailpit) or on the embedded defaults
# (PGlite + in-process store under /data) with: docker run -p 3000:3000 -v iam-data:/data iam-istruzione
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: all dependencies, TypeScript -> dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci (scripts/npm-ci.mjs only adds a checked fallback for lockfiles that lack other
# platforms' optional binaries; see its header).
COPY scripts/npm-ci.mjs scripts/npm-ci.mjs
RUN node scripts/npm-ci.mjs
COPY . .
# tsc emits only .ts/.json: carry any other files under src/ (SQL, templates…) along, and
# make sure the optional folders exist so the runtime stage can copy them unconditionally.
RUN npm run build \
 && find src -type f ! -name '*.ts' -exec cp --parents {} dist/ \; \
 && mkdir -p public views

# ---- runtime: production dependencies only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    CLIENTS_FILE=/config/clients.json
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/npm-ci.mjs scripts/npm-ci.mjs
RUN node scripts/npm-ci.mjs --omit=dev \
 && npm cache clean --force \
 && rm -rf scripts
COPY --from=build /app/dist ./dist
COPY --from=build /app/views ./views
COPY --from=build /app/public ./public
# No clients.json: the committed one is the localhost demo, with demo secrets. Mount the
# real catalogue (deploy/clients.example.json shows the shape) at /config/clients.json.
# /data holds the e-mail outbox and, without DATABASE_URL, the PGlite database (accounts and keys).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# No curl in the slim image: Node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]

# One image for the three roles (migrate, api, worker); docker-compose.yml picks the command.
# Node 26: the Active LTS line (Node 20 is past its end of life). Untested here: this machine has
# no Docker engine; the suite was run under Node 26 from the npm registry instead (docs/api-security.md).
#
# Two stages: the build stage has the dev dependencies (the prisma CLI, to generate the client);
# the runtime stage installs production dependencies only and copies the generated client.
FROM node:26-bookworm-slim AS build
WORKDIR /app
# vendor/ holds the stand-in that package.json's "overrides" points at (see its package.json).
COPY package.json package-lock.json ./
COPY vendor ./vendor
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run -s generate

FROM node:26-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY vendor ./vendor
COPY scripts/prune-dev-optional.mjs ./scripts/
# --omit=dev keeps the prisma CLI (an optional peer of @prisma/client); the prune script drops it.
RUN npm ci --omit=dev --no-audit --no-fund && node scripts/prune-dev-optional.mjs && npm cache clean --force
COPY tsconfig.json ./
COPY prisma ./prisma
COPY scripts/worker-healthcheck.mjs ./scripts/
COPY workers ./workers
COPY --from=build /app/src ./src
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "workers/api-server.ts"]

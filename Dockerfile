# One image for the three roles (migrate, api, worker); docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# vendor/ holds the stand-in that package.json's "overrides" points at (see its package.json).
COPY package.json package-lock.json ./
COPY vendor ./vendor
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run -s generate
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "workers/api-server.ts"]

# One image for the three roles (migrate, api, worker); docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run -s generate
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "workers/api-server.ts"]

import { defineConfig } from 'prisma/config';

// env() from prisma/config throws when the variable is unset, even for `prisma generate`,
// which needs no database; the runtime reads DATABASE_URL through src/config.ts instead.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/campaigns' },
});

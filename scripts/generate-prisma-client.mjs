// `prisma generate` needs no schema engine, but Prisma tries to download the native one
// unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file (it cannot be downloaded on every machine). Point it
// at this script so generate works offline; migrations run through the WebAssembly engine.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: fileURLToPath(import.meta.url), PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: ['ignore', 'pipe', 'pipe'], env });
if (result.status !== 0) {
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exit(result.status ?? 1);
}

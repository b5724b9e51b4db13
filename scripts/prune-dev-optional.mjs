// Removes from node_modules the packages the lockfile marks "devOptional": there only for a
// development dependency that is also an optional peer of a runtime one. `npm ci --omit=dev`
// keeps those (npm drops them only with --omit=optional too, which would also drop esbuild's
// platform binary that tsx needs). Here that is the prisma CLI and its dependencies: the runtime
// uses the generated client and the WebAssembly schema engine, never the CLI. Run by the
// Dockerfile after `npm ci --omit=dev`.
import { readFileSync, rmSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const removed = [];
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path && entry.devOptional) {
    rmSync(path, { recursive: true, force: true });
    removed.push(path.replace(/^node_modules\//, ''));
  }
}
rmSync('node_modules/.bin/prisma', { force: true });
process.stdout.write(`pruned ${removed.length} development-only packages: ${removed.join(', ')}\n`);

#!/usr/bin/env node
// Launches the `wce` CLI (src/cli/wce/main.ts) through tsx, like the npm scripts run the
// engine: TypeScript needs no build step. Only `wce migrate` runs in a child node with
// --experimental-wasm-modules (Prisma's schema engine ships as WebAssembly); every other command
// runs in this process, which keeps a command's start-up to one node.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mainUrl = new URL('../src/cli/wce/main.ts', import.meta.url);
const args = process.argv.slice(2);

if (args.includes('migrate')) {
  const child = spawn(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--import', import.meta.resolve('tsx'), fileURLToPath(mainUrl), ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === null ? 1 : 128);
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(mainUrl.href);
}

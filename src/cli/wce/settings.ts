/**
 * Where the CLI finds the API and its key, first match wins:
 *   1. --url / --api-key
 *   2. WCE_URL / WCE_API_KEY
 *   3. the config file: --config <path>, else $XDG_CONFIG_HOME/wce/config.json or
 *      ~/.config/wce/config.json, as {"url": "...", "apiKey": "..."}
 */
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { loadCliEnv } from '../../config.js';
import { CliError, EXIT } from './exit-codes.js';

export type GlobalOptions = { url?: string; apiKey?: string; config?: string; json?: boolean };
export type Connection = { url: string; apiKey: string };

const fileSchema = z.object({ url: z.string().url().optional(), apiKey: z.string().min(1).optional() });

export function configPath(options: GlobalOptions): string | null {
  return options.config ?? loadCliEnv().defaultConfigPath;
}

async function readConfigFile(path: string | null, explicit: boolean): Promise<z.infer<typeof fileSchema>> {
  if (!path) return {};
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(EXIT.usage, `cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(EXIT.usage, `the config file ${path} is not JSON`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new CliError(EXIT.usage, `the config file ${path} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export async function resolveConnection(options: GlobalOptions): Promise<Connection> {
  const env = loadCliEnv();
  const file = await readConfigFile(configPath(options), options.config !== undefined);
  const url = options.url ?? env.url ?? file.url;
  const apiKey = options.apiKey ?? env.apiKey ?? file.apiKey;
  if (!url) throw new CliError(EXIT.usage, 'no API URL: pass --url, set WCE_URL, or put "url" in the config file');
  if (!apiKey) throw new CliError(EXIT.usage, 'no API key: pass --api-key, set WCE_API_KEY, or put "apiKey" in the config file');
  return { url: url.replace(/\/+$/, ''), apiKey };
}

/** Writes the config file (mode 600: it holds a key). */
export async function saveConfigFile(path: string, values: { url: string; apiKey: string }): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}

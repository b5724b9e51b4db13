/** What every command gets: the global options, a printer, and an API client made on first use. */
import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import { printer, type Printer } from './output.js';
import { resolveConnection, type GlobalOptions } from './settings.js';

export type CommandContext = { options: GlobalOptions; out: Printer; api(): Promise<ApiClient> };

export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  let client: ApiClient | null = null;
  return {
    options,
    out: printer(options.json === true),
    async api() {
      client ??= new ApiClient(await resolveConnection(options));
      return client;
    },
  };
}

/**
 * Wraps a command's handler: it receives its positional arguments, its own options and the
 * context. (Commander passes them as (...args, options, command).)
 */
export function handler<A extends unknown[], O>(fn: (ctx: CommandContext, options: O, ...args: A) => Promise<number | void>) {
  return async (...raw: unknown[]): Promise<void> => {
    const command = raw[raw.length - 1] as Command;
    const options = raw[raw.length - 2] as O;
    const args = raw.slice(0, -2) as A;
    const code = await fn(contextOf(command), options, ...args);
    if (typeof code === 'number') process.exitCode = code;
  };
}

/** Parses a JSON option value, or reports a usage error naming the option. */
export function jsonOption(name: string): (value: string) => unknown {
  return (value) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw new Error(`${name} must be JSON, e.g. '{"key": "value"}'`);
    }
  };
}

export const encode = encodeURIComponent;

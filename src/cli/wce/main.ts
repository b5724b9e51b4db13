/**
 * `wce`: the engine's command-line client. It talks to the HTTP API (URL and key from flags,
 * WCE_URL / WCE_API_KEY, or a config file); only `migrate` and `create-tenant` use the
 * database. Human output by default, --json for scripts; exit codes in ./exit-codes.ts.
 */
import { Command, CommanderError } from 'commander';
import { registerBootstrapCommands } from './commands/bootstrap.js';
import { registerCampaignCommands } from './commands/campaigns.js';
import { registerResourceCommands } from './commands/resources.js';
import { registerStatusCommand } from './commands/status.js';
import { registerSuppressionCommands } from './commands/suppressions.js';
import { CliError, EXIT } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('wce')
    .description('WhatsApp campaign engine: accounts, templates, campaigns, reports, suppressions, API keys, event endpoints')
    .option('--url <url>', 'API base URL (or WCE_URL, or "url" in the config file)')
    .option('--api-key <key>', 'tenant API key (or WCE_API_KEY, or "apiKey" in the config file)')
    .option('--config <path>', 'config file (default ~/.config/wce/config.json)')
    .option('--json', 'print the API\'s JSON (for scripts) instead of text')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerBootstrapCommands(program);
  registerResourceCommands(program);
  registerCampaignCommands(program);
  registerStatusCommand(program);
  registerSuppressionCommands(program);
  // Every subcommand reports usage errors through the same exit path.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, successfully.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      const json = argv.includes('--json');
      if (json && error.body) process.stderr.write(`${JSON.stringify(error.body)}\n`);
      else process.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.apiError;
  }
}

process.exitCode = await run(process.argv.slice(2));

/** accounts, templates, api-keys and event endpoints: thin wrappers over their API routes. */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { encode, handler, jsonOption } from '../context.js';
import { fields, table } from '../output.js';

type Account = { id: string; provider: string; name: string; status: string; statusCode?: string | null; ratePerSecond: number; messagingLimit?: number | null; webhook?: { url: string } };
type Template = { id: string; accountId: string; name: string; language: string; category?: string; status: string; paramCount: number };
type ApiKey = { id: string; name: string; prefix?: string; scope?: string; createdAt?: string; lastUsedAt?: string | null; revokedAt?: string | null; expiresAt?: string | null };
type Endpoint = { id: string; url: string; events: string[]; format: string; enabled: boolean; description: string | null };

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

export function registerResourceCommands(program: Command): void {
  const accounts = program.command('accounts').description('provider accounts');
  accounts.command('list').description('list the accounts').action(
    handler(async (ctx) => {
      const body = await (await ctx.api()).json<{ accounts: Account[] }>('GET', '/v1/accounts');
      ctx.out.result(body, () => table(['ID', 'PROVIDER', 'NAME', 'STATUS', 'RATE/S'], body.accounts.map((a) => [a.id, a.provider, a.name, a.statusCode ? `${a.status} (${a.statusCode})` : a.status, a.ratePerSecond])));
    }),
  );
  accounts.command('show <id>').description("an account's settings and state").action(
    handler(async (ctx, _o, id: string) => {
      const a = await (await ctx.api()).json<Account & Record<string, unknown>>('GET', `/v1/accounts/${encode(id)}`);
      ctx.out.result(a, () => fields(Object.entries(a)));
    }),
  );
  accounts
    .command('create')
    .description('create a provider account (credentials are write-only)')
    .requiredOption('--provider <provider>', 'sandbox, adereso, multichat, optiwe, atomchat or meta')
    .requiredOption('--name <name>', 'a name people recognize')
    .option('--rate <n>', 'messages per second', positiveInt)
    .option('--messaging-limit <n>', 'unique recipients per rolling 24 h (Meta tier)', positiveInt)
    .option('--settings <json>', 'non-secret settings (the API\'s "config"), as JSON', jsonOption('--settings'))
    .option('--credentials <json>', 'secrets, as JSON (prefer --credentials-file: a command line is visible to other users)', jsonOption('--credentials'))
    .option('--credentials-file <path>', 'a JSON file with the secrets')
    .action(
      handler(async (ctx, o: { provider: string; name: string; rate?: number; messagingLimit?: number; settings?: unknown; credentials?: unknown; credentialsFile?: string }) => {
        const credentials = o.credentialsFile ? (JSON.parse(await readFile(o.credentialsFile, 'utf8')) as unknown) : o.credentials;
        const body = {
          provider: o.provider,
          name: o.name,
          ...(o.rate === undefined ? {} : { ratePerSecond: o.rate }),
          ...(o.messagingLimit === undefined ? {} : { messagingLimit: o.messagingLimit }),
          ...(o.settings === undefined ? {} : { config: o.settings }),
          ...(credentials === undefined ? {} : { credentials }),
        };
        const a = await (await ctx.api()).json<Account>('POST', '/v1/accounts', body);
        ctx.out.result(a, () => [`account ${a.id} created (${a.provider}, ${a.ratePerSecond}/s)`, ...(a.webhook ? [`webhook URL (shown once): ${a.webhook.url}`] : [])]);
      }),
    );
  accounts.command('resume <id>').description('resume an account stopped by a limit or an auth error').action(
    handler(async (ctx, _o, id: string) => {
      const a = await (await ctx.api()).json<Account>('POST', `/v1/accounts/${encode(id)}/resume`);
      ctx.out.result(a, () => `account ${id} resumed`);
    }),
  );

  const templates = program.command('templates').description('message templates');
  templates
    .command('list')
    .description('list templates')
    .option('--account <id>', "only this account's")
    .action(
      handler(async (ctx, o: { account?: string }) => {
        const body = await (await ctx.api()).json<{ templates: Template[] }>('GET', `/v1/templates${o.account ? `?accountId=${encode(o.account)}` : ''}`);
        ctx.out.result(body, () => table(['ID', 'NAME', 'LANG', 'CATEGORY', 'STATUS', 'PARAMS'], body.templates.map((t) => [t.id, t.name, t.language, t.category, t.status, t.paramCount])));
      }),
    );
  templates
    .command('create')
    .description('register an approved template by hand ({{n}} placeholders)')
    .requiredOption('--account <id>', 'provider account id')
    .requiredOption('--name <name>', "the provider's template name")
    .requiredOption('--body <text>', 'the text, with {{1}}..{{n}}')
    .option('--language <code>', 'default es')
    .option('--category <category>', 'MARKETING, UTILITY or AUTHENTICATION')
    .action(
      handler(async (ctx, o: { account: string; name: string; body: string; language?: string; category?: string }) => {
        const t = await (await ctx.api()).json<Template>('POST', '/v1/templates', {
          accountId: o.account,
          name: o.name,
          body: o.body,
          ...(o.language ? { language: o.language } : {}),
          ...(o.category ? { category: o.category } : {}),
        });
        ctx.out.result(t, () => `template ${t.id} created (${t.paramCount} parameters)`);
      }),
    );
  templates.command('sync <accountId>').description("import the provider's templates into the account").action(
    handler(async (ctx, _o, accountId: string) => {
      const body = await (await ctx.api()).json<Record<string, unknown>>('POST', `/v1/accounts/${encode(accountId)}/templates/sync`);
      ctx.out.result(body, () => fields(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v.length : v])));
    }),
  );

  const keys = program.command('api-keys').description("the tenant's API keys");
  keys.command('list').description('list keys (never their secrets)').action(
    handler(async (ctx) => {
      const body = await (await ctx.api()).json<{ apiKeys?: ApiKey[]; keys?: ApiKey[] }>('GET', '/v1/api-keys');
      const list = body.apiKeys ?? body.keys ?? [];
      ctx.out.result(body, () => table(['ID', 'NAME', 'PREFIX', 'SCOPE', 'LAST USED', 'REVOKED'], list.map((k) => [k.id, k.name, k.prefix, k.scope, k.lastUsedAt, k.revokedAt])));
    }),
  );
  keys
    .command('create')
    .description('create a key (shown once)')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scope <scope>', 'read, full or admin')
    .action(
      handler(async (ctx, o: { name: string; scope?: string }) => {
        const body = await (await ctx.api()).json<Record<string, unknown>>('POST', '/v1/api-keys', { name: o.name, ...(o.scope ? { scope: o.scope } : {}) });
        ctx.out.result(body, () => fields(Object.entries(body)));
      }),
    );
  keys.command('revoke <id>').description('revoke a key at once').action(
    handler(async (ctx, _o, id: string) => {
      const body = await (await ctx.api()).json<Record<string, unknown>>('POST', `/v1/api-keys/${encode(id)}/revoke`);
      ctx.out.result(body, () => `api key ${id} revoked`);
    }),
  );
  keys
    .command('rotate <id>')
    .description('a new key with the same name and scope; the old one stops (after --grace seconds)')
    .option('--grace <seconds>', 'how long the old key keeps working', positiveInt)
    .action(
      handler(async (ctx, o: { grace?: number }, id: string) => {
        const body = await (await ctx.api()).json<Record<string, unknown>>('POST', `/v1/api-keys/${encode(id)}/rotate`, o.grace === undefined ? {} : { graceSeconds: o.grace });
        ctx.out.result(body, () => fields(Object.entries(body)));
      }),
    );

  const endpoints = program.command('endpoints').description('where outbound events are delivered (docs/events.md)');
  endpoints.command('list').description('list event endpoints').action(
    handler(async (ctx) => {
      const body = await (await ctx.api()).json<{ endpoints: Endpoint[] }>('GET', '/v1/event-endpoints');
      ctx.out.result(body, () => table(['ID', 'URL', 'FORMAT', 'ENABLED', 'EVENTS'], body.endpoints.map((e) => [e.id, e.url, e.format, e.enabled, e.events.join(',')])));
    }),
  );
  endpoints
    .command('create <url>')
    .description('register an endpoint (an https URL that receives the POSTs); prints its signing secret once')
    .option('--events <types>', 'comma-separated event types (default: all; see `wce endpoints types`)')
    .option('--format <format>', 'json (signed envelope) or slack')
    .option('--description <text>', 'what it is')
    .action(
      handler(async (ctx, o: { events?: string; format?: string; description?: string }, url: string) => {
        const body = await (await ctx.api()).json<{ endpoint: Endpoint; secret: string }>('POST', '/v1/event-endpoints', {
          url,
          ...(o.events ? { events: o.events.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
          ...(o.format ? { format: o.format } : {}),
          ...(o.description ? { description: o.description } : {}),
        });
        ctx.out.result(body, () => [`endpoint ${body.endpoint.id} created`, `signing secret (shown once): ${body.secret}`]);
      }),
    );
  endpoints.command('delete <id>').description('stop delivering to an endpoint and forget it').action(
    handler(async (ctx, _o, id: string) => {
      await (await ctx.api()).json('DELETE', `/v1/event-endpoints/${encode(id)}`);
      ctx.out.result({ deleted: id }, () => `endpoint ${id} deleted`);
    }),
  );
  endpoints
    .command('deliveries <id>')
    .description("an endpoint's delivery log, newest first")
    .option('--status <status>', 'pending, delivered or failed')
    .option('--limit <n>', 'how many', positiveInt)
    .action(
      handler(async (ctx, o: { status?: string; limit?: number }, id: string) => {
        const query = new URLSearchParams({ ...(o.status ? { status: o.status } : {}), ...(o.limit ? { limit: String(o.limit) } : {}) }).toString();
        const body = await (await ctx.api()).json<{ deliveries: { id: string; eventId: string; type: string; status: string; attempts: number; lastStatusCode: number | null; createdAt: string }[] }>(
          'GET',
          `/v1/event-endpoints/${encode(id)}/deliveries${query ? `?${query}` : ''}`,
        );
        ctx.out.result(body, () => table(['EVENT', 'TYPE', 'STATUS', 'ATTEMPTS', 'LAST HTTP', 'CREATED'], body.deliveries.map((d) => [d.eventId, d.type, d.status, d.attempts, d.lastStatusCode, d.createdAt])));
      }),
    );
  endpoints.command('types').description('the event types an endpoint can receive').action(
    handler(async (ctx) => {
      const body = await (await ctx.api()).json<{ types: { type: string; description: string }[] }>('GET', '/v1/event-types');
      ctx.out.result(body, () => table(['TYPE', 'MEANING'], body.types.map((t) => [t.type, t.description])));
    }),
  );
}

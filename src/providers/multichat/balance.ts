/**
 * contacto-multichat's balance query (`/balance/`), a form post with login + token; the account
 * is prepaid, so the engine asks before a campaign starts (src/accounts/balance-check.ts). The
 * manual does not show a successful answer, so it is read defensively, as documented below.
 */
import { parseJson } from '../outcome.js';
import type { BalanceCapability, BalanceResult, HttpRequest, HttpResponse } from '../types.js';
import { queryAuthOutcome, queryFailure, readMultichatCode } from './multichat-codes.js';
import { multichatFormRequest, type MultichatAccount, type MultichatConfig, type MultichatCredentials } from './send.js';

export type MultichatBalanceResult = BalanceResult;

export function buildBalanceRequest(account: MultichatAccount): HttpRequest {
  return multichatFormRequest(account, 'balance');
}

const BALANCE_KEYS = ['saldo', 'balance', 'credito', 'crédito', 'credit'];

/**
 * The balance, in the account's currency units. Read from: a JSON object's saldo/balance/
 * credito/credit (number or numeric string), or a bare number. A bare integer 2 or 3 is the
 * documented error code, not a balance of 2 or 3 (they cannot be told apart; the code wins).
 */
export function parseBalanceResponse(response: HttpResponse): MultichatBalanceResult {
  const json = parseJson(response.body.trim());
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const byKey = new Map(Object.entries(json as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
    const found = BALANCE_KEYS.map((k) => byKey.get(k)).find((v) => v !== undefined);
    const balance = toAmount(found);
    if (balance !== undefined) return { ok: true, balance };
  }
  const reply = readMultichatCode(response.body);
  const error = reply ? queryAuthOutcome(reply.code, reply.text) : undefined;
  if (error) return { ok: false, outcome: error };
  const bare = toAmount(typeof json === 'number' || typeof json === 'string' ? json : undefined) ?? toAmount(response.body.trim());
  if (bare !== undefined && response.status >= 200 && response.status <= 299) return { ok: true, balance: bare };
  return queryFailure(response);
}

function toAmount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}


export const multichatBalance: BalanceCapability<MultichatConfig, MultichatCredentials> = {
  buildBalanceRequest,
  parseBalanceResponse,
};

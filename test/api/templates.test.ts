/** Templates registered by hand: the parameter count is read from the body's {{n}}, with no gaps. */
import { describe, expect, it } from 'vitest';
import { apiForFile, beforeAllValue, createAccount, expectError, expectStatus, type PublicTemplate } from './api-harness.js';

const h = apiForFile();
const account = beforeAllValue(() => createAccount(h.api));

const post = (body: Record<string, unknown>) => h.api.post('/v1/templates', { accountId: account.id, ...body });

describe('parameter count', () => {
  it.each([
    ['Hola {{1}}, tu saldo es {{2}}. Gracias {{1}}.', 2],
    ['Hola {{ 1 }} y {{2}} y {{3}}', 3],
    ['Sin variables.', 0],
  ])('reads %j as %i placeholder(s)', async (body, paramCount) => {
    const response = await post({ name: `count_${paramCount}`, body });
    expect(expectStatus<PublicTemplate>(response, 201)).toMatchObject({ accountId: account.id, body, paramCount, status: 'approved', language: 'es' });
  });

  it.each([
    ['Hola {{1}} {{3}}', '{{2}} is missing'],
    ['Hola {{2}}', '{{1}} is missing'],
    ['Hola {{0}}', '{{1}} is missing'],
  ])('refuses %j, which skips a number, with 400 VALIDATION_FAILED', async (body, missing) => {
    const response = await post({ name: 'gappy', body });
    const error = expectError(response, 400, 'VALIDATION_FAILED');
    expect(error.details?.problems).toEqual([expect.stringMatching(/^body: placeholders must be numbered/)]);
    expect(error.message).toContain(missing);
    expect(await h.ctx.db.prisma.template.count({ where: { name: 'gappy' } })).toBe(0);
  });
});

describe('parameter names', () => {
  it('stores names when there is one per placeholder', async () => {
    const response = await post({ name: 'named', body: 'Hola {{1}}, debes {{2}}', paramNames: ['nombre', 'monto'] });
    expect(expectStatus<PublicTemplate>(response, 201)).toMatchObject({ paramCount: 2, paramNames: ['nombre', 'monto'] });
  });

  it.each([[['nombre']], [['nombre', 'monto', 'extra']]])('refuses %j for a two-placeholder body with 400 VALIDATION_FAILED', async (paramNames) => {
    const response = await post({ name: 'misnamed', body: 'Hola {{1}}, debes {{2}}', paramNames });
    const error = expectError(response, 400, 'VALIDATION_FAILED');
    expect(error.details?.problems).toEqual([`paramNames: the body has 2 placeholder(s) but ${paramNames.length} name(s) were given`]);
    expect(await h.ctx.db.prisma.template.count({ where: { name: 'misnamed' } })).toBe(0);
  });
});

describe('registration', () => {
  it('re-registering the same name and language updates the template in place', async () => {
    const first = expectStatus<PublicTemplate>(await post({ name: 'evolving', body: 'Hola {{1}}', status: 'pending' }), 201);
    const second = expectStatus<PublicTemplate>(await post({ name: 'evolving', body: 'Hola {{1}} y {{2}}' }), 201);
    expect(second).toMatchObject({ id: first.id, paramCount: 2, status: 'approved' });
    const english = expectStatus<PublicTemplate>(await post({ name: 'evolving', language: 'en', body: 'Hi {{1}}' }), 201);
    expect(english.id).not.toBe(first.id);
  });

  it('an unknown account is 404 ACCOUNT_NOT_FOUND; a bad body is 400 VALIDATION_FAILED listing each field', async () => {
    const missing = '00000000-0000-4000-8000-000000000001';
    expectError(await h.api.post('/v1/templates', { accountId: missing, name: 'x', body: 'Hi' }), 404, 'ACCOUNT_NOT_FOUND');
    const error = expectError(await post({ name: '', body: '', category: 'SPAM', status: 'maybe' }), 400, 'VALIDATION_FAILED');
    expect(error.details?.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        expect.stringMatching(/^body: /),
        expect.stringMatching(/^category: /),
        expect.stringMatching(/^status: /),
      ]),
    );
  });

  it('lists templates, optionally for one account', async () => {
    const other = await createAccount(h.api, 'second account');
    const mine = expectStatus<PublicTemplate>(await h.api.post('/v1/templates', { accountId: other.id, name: 'only_here', body: 'Hola {{1}}' }), 201);
    const all = expectStatus<{ templates: PublicTemplate[] }>(await h.api.get('/v1/templates'), 200).templates;
    expect(all.map((t) => t.id)).toContain(mine.id);
    expect(all.some((t) => t.accountId === account.id)).toBe(true);
    const filtered = expectStatus<{ templates: PublicTemplate[] }>(await h.api.get(`/v1/templates?accountId=${other.id}`), 200).templates;
    expect(filtered.map((t) => t.id)).toEqual([mine.id]);
    expectError(await h.api.get('/v1/templates?accountId=nope'), 400, 'VALIDATION_FAILED');
  });
});

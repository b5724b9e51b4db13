/** The sync plan on its own: matching by id then by name, and the cases the table's unique key forbids. */
import { describe, expect, it } from 'vitest';
import type { ListedTemplate } from '../../src/templates/fetch-provider-templates.js';
import { planTemplateSync, type StoredTemplate } from '../../src/templates/plan-template-sync.js';

const stored = (id: string, name: string, externalId: string | null, extra: Partial<StoredTemplate> = {}): StoredTemplate => ({
  id,
  externalId,
  name,
  language: 'es',
  category: 'MARKETING',
  body: 'Hola {{1}}',
  paramCount: 1,
  paramNames: [],
  status: 'approved',
  ...extra,
});
const listed = (name: string, externalId: string | null, extra: Partial<ListedTemplate> = {}): ListedTemplate => ({
  externalId,
  name,
  language: 'es',
  category: null,
  body: 'Hola {{1}}',
  paramCount: 1,
  paramNames: null,
  status: 'approved',
  ...extra,
});

describe('planTemplateSync', () => {
  it('keeps the first of a name listed twice, and reports the second', () => {
    const plan = planTemplateSync([], [listed('a', '1'), listed('a', '2')], []);
    expect(plan.creates.map((c) => c.externalId)).toEqual(['1']);
    expect(plan.skipped).toEqual([{ name: 'a', problem: 'listed twice for language "es"; the first one was kept' }]);
  });

  it('refuses a rename onto a name another stored template keeps, and neither disables nor changes that template', () => {
    const plan = planTemplateSync([stored('r1', 'old', '1'), stored('r2', 'taken', null, { status: 'disabled' })], [listed('taken', '1')], []);
    expect(plan).toMatchObject({ creates: [], updates: [], unchanged: 0, disables: [] });
    expect(plan.skipped).toEqual([{ name: 'taken', problem: 'renamed at the provider onto a name another stored template has for language "es"' }]);
  });

  it('lets a new template take the name a rename frees', () => {
    const plan = planTemplateSync([stored('r1', 'promo', '1')], [listed('promo_v2', '1'), listed('promo', '2')], []);
    expect(plan.updates).toEqual([{ id: 'r1', fields: expect.objectContaining({ name: 'promo_v2', externalId: '1' }) }]);
    expect(plan.creates).toEqual([expect.objectContaining({ name: 'promo', externalId: '2', category: 'MARKETING' })]);
    expect(plan.disables).toEqual([]);
  });

  it('keeps names given by hand while the placeholder count still fits them, and the stored category when the provider has none', () => {
    const row = stored('r1', 'aviso', '1', { paramNames: ['nombre'], category: 'UTILITY' });
    expect(planTemplateSync([row], [listed('aviso', '1')], [])).toMatchObject({ unchanged: 1, updates: [] });
    const grown = planTemplateSync([row], [listed('aviso', '1', { body: 'Hola {{1}} {{2}}', paramCount: 2 })], []);
    expect(grown.updates[0]?.fields).toMatchObject({ paramNames: [], paramCount: 2, category: 'UTILITY' });
  });

  it('disables only what is neither listed, already disabled, nor listed unreadably under its name', () => {
    const rows = [stored('r1', 'gone', '1'), stored('r2', 'off', '2', { status: 'disabled' }), stored('r3', 'garbled', '3'), stored('r4', 'kept', '4')];
    const plan = planTemplateSync(rows, [listed('kept', '4')], [
      { name: 'garbled', problem: 'no template id or no text', named: true },
      { name: '#9', problem: 'no template id or no text', named: false },
    ]);
    expect(plan.disables).toEqual(['r1']);
    expect(plan.skipped.map((s) => s.name)).toEqual(['garbled', '#9']);
  });
});

/** The sync plan on its own: matching by id then by name, and the cases the table's unique key forbids. */
import { describe, expect, it } from 'vitest';
import type { TemplateButton } from '../../src/providers/types.js';
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
  headerType: 'none',
  buttons: [],
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
  headerType: null,
  buttons: null,
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

  it('a header or button change is an update; the same buttons as the table returns them are not', () => {
    const yes: TemplateButton = { type: 'QUICK_REPLY', text: 'Sí' };
    const view: TemplateButton = { type: 'URL', text: 'Ver', value: 'https://shop.example/{{1}}' };
    const buttons = [yes, view];
    // Postgres returns JSONB keys in its own order (shortest first): still the same buttons.
    const row = stored('r1', 'promo', '1', { headerType: 'image', buttons: [{ text: 'Sí', type: 'QUICK_REPLY' }, { text: 'Ver', type: 'URL', value: 'https://shop.example/{{1}}' }] });
    const same = listed('promo', '1', { headerType: 'image', buttons });
    expect(planTemplateSync([row], [same], [])).toMatchObject({ unchanged: 1, updates: [] });

    const changes: Partial<ListedTemplate>[] = [
      { headerType: 'video' },
      { buttons: [yes, { ...view, text: 'Ver más' }] },
      { buttons: [yes, { ...view, value: 'https://shop.example/p/{{1}}' }] },
      { buttons: [view, yes] },
      { buttons: [yes] },
      { buttons: [yes, { type: 'URL', text: 'Ver' }] },
    ];
    for (const change of changes) {
      const plan = planTemplateSync([row], [{ ...same, ...change }], []);
      expect(plan.updates).toEqual([{ id: 'r1', fields: expect.objectContaining({ headerType: change.headerType ?? 'image', buttons: change.buttons ?? buttons }) }]);
    }
    // A stored value that is not the engine's shape (a stray key, not a list) is rewritten.
    for (const odd of [[{ type: 'QUICK_REPLY', text: 'Sí', payload: 'x' }, view], [yes, { ...view, value: null }], {}, null]) {
      expect(planTemplateSync([{ ...row, buttons: odd }], [same], []).updates).toHaveLength(1);
    }
  });

  it('keeps the stored header and buttons when the provider does not say, and stores none for a new one', () => {
    const row = stored('r1', 'aviso', '1', { headerType: 'document', buttons: [{ type: 'QUICK_REPLY', text: 'Ok' }] });
    expect(planTemplateSync([row], [listed('aviso', '1')], [])).toMatchObject({ unchanged: 1, updates: [] });
    const changed = planTemplateSync([row], [listed('aviso', '1', { status: 'paused' })], []);
    expect(changed.updates[0]?.fields).not.toHaveProperty('headerType');
    expect(changed.updates[0]?.fields).not.toHaveProperty('buttons');
    expect(planTemplateSync([], [listed('nuevo', '2')], []).creates[0]).not.toHaveProperty('buttons');
  });
});

/**
 * What a sync changes, worked out from the stored templates and the provider's listing, with
 * no I/O. The provider is the source of truth for what it lists; a stored template it no
 * longer lists is disabled (never deleted: campaigns refer to it).
 *
 * A listed template finds its stored row by the provider's id first (so a template renamed at
 * the provider stays the same row, with the same campaigns), then by name + language (so a
 * template registered by hand gets its id filled in). Each stored row is claimed once.
 */
import type { TemplateCategory, TemplateStatus } from '../generated/prisma/enums.js';
import type { TemplateButton, TemplateHeaderType } from '../providers/types.js';
import type { ListedTemplate, SkippedEntry } from './fetch-provider-templates.js';
import { sameButtons } from './template-buttons.js';

/** What a sync writes to a stored template. */
export type TemplateFields = {
  externalId: string | null;
  name: string;
  language: string;
  category: TemplateCategory;
  body: string;
  paramCount: number;
  paramNames: string[];
  status: TemplateStatus;
  /** Absent when the provider does not say (multichat): the stored one stays (a new row: 'none'). */
  headerType?: TemplateHeaderType;
  /** Absent when the provider does not say (multichat): the stored ones stay (a new row: none). */
  buttons?: TemplateButton[];
};

/** The stored columns a sync reads, header and buttons as the table holds them. */
export type StoredTemplate = Omit<TemplateFields, 'headerType' | 'buttons'> & {
  id: string;
  headerType: string;
  /** The `buttons` JSON, unchecked: anything but the listed buttons reads as a change. */
  buttons: unknown;
};

export type SyncPlan = {
  creates: TemplateFields[];
  updates: { id: string; fields: TemplateFields }[];
  unchanged: number;
  /** Ids of stored templates the provider no longer lists. */
  disables: string[];
  skipped: { name: string; problem: string }[];
};

/** A template the provider does not categorize is stored as MARKETING, the one with caps and opt-outs. */
const DEFAULT_CATEGORY: TemplateCategory = 'MARKETING';

const keyOf = (t: { name: string; language: string }) => `${t.language}\u0000${t.name}`;

export function planTemplateSync(stored: readonly StoredTemplate[], listed: readonly ListedTemplate[], unreadable: readonly SkippedEntry[]): SyncPlan {
  const plan: SyncPlan = { creates: [], updates: [], unchanged: 0, disables: [], skipped: unreadable.map(({ name, problem }) => ({ name, problem })) };
  const byExternalId = new Map(stored.filter((t) => t.externalId !== null).map((t) => [t.externalId, t]));
  const byKey = new Map(stored.map((t) => [keyOf(t), t]));
  const claimed = new Set<string>();

  // The same name and language twice in one listing cannot both be stored: the first wins.
  const seenKeys = new Set<string>();
  const unique: ListedTemplate[] = [];
  for (const t of listed) {
    if (seenKeys.has(keyOf(t))) plan.skipped.push({ name: t.name, problem: `listed twice for language "${t.language}"; the first one was kept` });
    else {
      seenKeys.add(keyOf(t));
      unique.push(t);
    }
  }

  // Ids first for every listed template, so a rename cannot be taken for a new template.
  const match = new Map<ListedTemplate, StoredTemplate>();
  for (const t of unique) {
    const row = t.externalId === null ? undefined : byExternalId.get(t.externalId);
    if (row && !claimed.has(row.id)) {
      match.set(t, row);
      claimed.add(row.id);
    }
  }
  for (const t of unique) {
    if (match.has(t)) continue;
    const row = byKey.get(keyOf(t));
    if (row && !claimed.has(row.id)) {
      match.set(t, row);
      claimed.add(row.id);
    }
  }

  // Names and languages the stored rows will hold once the plan is applied, to refuse a rename
  // onto a name another row keeps (the table allows one per account, name and language).
  // Matched templates go first, so a name a rename frees can be taken by a new template.
  const finalKeys = new Map(stored.map((t) => [keyOf(t), t.id]));
  for (const t of unique) {
    const row = match.get(t);
    if (!row) continue;
    const fields = fieldsFor(t, row);
    if (keyOf(fields) !== keyOf(row)) {
      const holder = finalKeys.get(keyOf(fields));
      if (holder !== undefined && holder !== row.id) {
        plan.skipped.push({ name: t.name, problem: `renamed at the provider onto a name another stored template has for language "${t.language}"` });
        continue;
      }
      if (finalKeys.get(keyOf(row)) === row.id) finalKeys.delete(keyOf(row));
      finalKeys.set(keyOf(fields), row.id);
    }
    if (sameFields(fields, row)) plan.unchanged += 1;
    else plan.updates.push({ id: row.id, fields });
  }
  for (const t of unique) {
    if (match.has(t)) continue;
    if (finalKeys.has(keyOf(t))) {
      plan.skipped.push({ name: t.name, problem: `another stored template already has this name for language "${t.language}"` });
      continue;
    }
    finalKeys.set(keyOf(t), 'new');
    plan.creates.push(fieldsFor(t, undefined));
  }

  // An entry the provider listed but that could not be read may be a stored template: keep it.
  const unreadableNames = new Set(unreadable.filter((s) => s.named).map((s) => s.name));
  for (const row of stored) {
    if (claimed.has(row.id) || row.status === 'disabled' || unreadableNames.has(row.name)) continue;
    plan.disables.push(row.id);
  }
  return plan;
}

function fieldsFor(t: ListedTemplate, row: StoredTemplate | undefined): TemplateFields {
  const keptNames = row && row.paramNames.length === t.paramCount ? row.paramNames : [];
  return {
    externalId: t.externalId ?? row?.externalId ?? null,
    name: t.name,
    language: t.language,
    category: t.category ?? row?.category ?? DEFAULT_CATEGORY,
    body: t.body,
    paramCount: t.paramCount,
    paramNames: t.paramNames ?? keptNames,
    status: t.status,
    ...(t.headerType === null ? {} : { headerType: t.headerType }),
    ...(t.buttons === null ? {} : { buttons: t.buttons }),
  };
}

function sameFields(a: TemplateFields, b: StoredTemplate): boolean {
  return (
    a.externalId === b.externalId &&
    a.name === b.name &&
    a.language === b.language &&
    a.category === b.category &&
    a.body === b.body &&
    a.paramCount === b.paramCount &&
    a.status === b.status &&
    a.paramNames.length === b.paramNames.length &&
    a.paramNames.every((n, i) => n === b.paramNames[i]) &&
    (a.headerType === undefined || a.headerType === b.headerType) &&
    (a.buttons === undefined || sameButtons(a.buttons, b.buttons))
  );
}

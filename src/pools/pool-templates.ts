/**
 * Each account of a sender pool sends the campaign's template under its own id or name: the same
 * approved template has a different id (and sometimes name) at each provider. A member maps it
 * explicitly (a template id, or a name and language), or it is matched by the campaign template's
 * name and language on that account. One SQL statement answers for every member, for the start
 * check (src/campaigns/campaign-actions.ts) and for the send context (src/sending/campaign-context.ts).
 */
export type MemberTemplate = {
  accountId: string;
  accountName: string;
  /** The member's template, or null when it has none matching. */
  templateId: string | null;
  templateStatus: string | null;
};

/** Runs one statement with positional parameters ($1...), on pg or through Prisma. */
export type SqlRunner = <T>(sql: string, params: unknown[]) => Promise<T[]>;

const MEMBER_TEMPLATES = `
SELECT m.account_id AS "accountId", a.name AS "accountName", t.id AS "templateId", t.status::text AS "templateStatus"
  FROM campaigns c
  JOIN sender_pool_members m ON m.pool_id = c.pool_id
  JOIN provider_accounts a ON a.id = m.account_id
  LEFT JOIN templates base ON base.id = c.template_id
  LEFT JOIN LATERAL (
    SELECT t.id, t.status FROM templates t
     WHERE t.account_id = m.account_id AND (
           (m.template_id IS NOT NULL AND t.id = m.template_id)
        OR (m.template_id IS NULL AND m.template_name IS NOT NULL AND t.name = m.template_name AND t.language = coalesce(m.template_language, base.language))
        OR (m.template_id IS NULL AND m.template_name IS NULL AND t.name = base.name AND t.language = base.language))
     LIMIT 1) t ON true
 WHERE c.id = $1 AND ($2::uuid IS NULL OR m.account_id = $2::uuid)
 ORDER BY a.name, m.account_id`;

/** Every member's template for a pool campaign (or only `accountId`'s); empty for a campaign without a pool. */
export function memberTemplates(run: SqlRunner, campaignId: string, accountId: string | null = null): Promise<MemberTemplate[]> {
  return run<MemberTemplate>(MEMBER_TEMPLATES, [campaignId, accountId]);
}

/** Names of the members that cannot send the campaign's template (none, or not approved). */
export function membersLackingTemplate(members: readonly MemberTemplate[]): string[] {
  return members.filter((m) => m.templateId === null || m.templateStatus !== 'approved').map((m) => m.accountName);
}

/**
 * The campaign state machine. Every change is one conditional UPDATE, so two operators (or an
 * operator and a worker) racing on the same campaign cannot both win.
 *
 *   draft --start--> running --pause--> paused --resume--> running --(no work left)--> completed
 *   draft | running | paused --cancel--> cancelled
 *   running | paused | completed --resend-unknown--> running (only recipients in doubt are resent)
 */
import type { Db } from '../db/database.js';
import type { CampaignStatus } from '../generated/prisma/enums.js';
import { cancelOpenRecipients, requeueUnknown, unqueueCampaign } from '../recipients/index.js';
import { AppError, errors } from '../errors.js';
import { recordCampaignAction } from '../events/hooks.js';
import type { Logger } from '../logger.js';
import type { SendOutcome } from '../providers/types.js';
import { memberTemplates, membersLackingTemplate } from '../pools/pool-templates.js';
import type { CampaignStops } from './campaign-stops.js';

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel' | 'resend-unknown';

const FROM: Record<CampaignAction, readonly CampaignStatus[]> = {
  start: ['draft'],
  pause: ['running'],
  resume: ['paused'],
  cancel: ['draft', 'running', 'paused'],
  'resend-unknown': ['running', 'paused', 'completed'],
};

const TO: Record<CampaignAction, CampaignStatus> = {
  start: 'running',
  pause: 'paused',
  resume: 'running',
  cancel: 'cancelled',
  'resend-unknown': 'running',
};

export type ActionResult = { campaignId: string; status: CampaignStatus; affected: number };

export type ActionOptions = {
  /** Why (a pause by the engine): shown with the campaign's status. */
  reason?: { code: string; message: string };
  /**
   * Where a pause or cancel marks the campaign stopped for the sends already claimed, and a resume
   * clears it (./campaign-stops.ts). Without it (scripts, tests that only start campaigns), claimed
   * sends still go out after a pause, as the claim alone would have it.
   */
  stops?: CampaignStops;
};

export async function applyCampaignAction(db: Db, tenantId: string, campaignId: string, action: CampaignAction, options: ActionOptions = {}): Promise<ActionResult> {
  const { reason, stops } = options;
  const from = await changeStatus(db, tenantId, campaignId, action, reason);
  // After the commit, and with the transaction's connection given back (marking reads the
  // campaign's accounts on another): a mark is never seen while Postgres still says it runs.
  if (stops && (TO[action] === 'paused' || TO[action] === 'cancelled')) await stops.mark(campaignId);
  if (stops && from.status === 'paused' && TO[action] === 'running') await stops.clear(campaignId);
  return { campaignId, status: TO[action], affected: from.affected };
}

/** The action's transaction; returns the status it moved from and the recipients it changed. */
async function changeStatus(db: Db, tenantId: string, campaignId: string, action: CampaignAction, reason: ActionOptions['reason']): Promise<{ status: CampaignStatus; affected: number }> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const current = await client.query<{ status: CampaignStatus; template_status: string | null; template_name: string | null; account_status: string; pool_id: string | null }>(
      `SELECT c.status, t.status AS template_status, t.name AS template_name, a.status AS account_status, c.pool_id
         FROM campaigns c LEFT JOIN templates t ON t.id = c.template_id JOIN provider_accounts a ON a.id = c.account_id
        WHERE c.id = $1 AND c.tenant_id = $2 FOR UPDATE OF c`,
      [campaignId, tenantId],
    );
    const row = current.rows[0];
    if (!row) throw errors.campaignNotFound(campaignId);
    if (!FROM[action].includes(row.status)) throw errors.campaignState(campaignId, row.status, action, FROM[action]);

    let affected = 0;
    if (action === 'start' || action === 'resume') {
      // A text campaign has no template to approve.
      if (row.template_status !== null && row.template_status !== 'approved') throw errors.templateNotApproved(row.template_name ?? '', row.template_status);
      if (row.pool_id) {
        // Every account of the pool must be able to send the template, under its own id or name.
        const members = await memberTemplates(async (sql, params) => (await client.query(sql, params)).rows, campaignId);
        if (members.length === 0) throw errors.poolEmpty(row.pool_id);
        const lacking = row.template_name === null ? [] : membersLackingTemplate(members);
        if (lacking.length > 0) throw errors.poolTemplateMissing(lacking, row.template_name ?? '');
      }
    }
    if (action === 'start') {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM recipients WHERE campaign_id = $1 AND status = 'pending'`, [campaignId]);
      affected = Number(rows[0]?.n ?? 0);
      if (affected === 0) throw errors.campaignEmpty(campaignId);
    }
    if (action === 'pause') affected = await unqueueCampaign(client, campaignId);
    if (action === 'cancel') affected = await cancelOpenRecipients(client, campaignId);
    if (action === 'resend-unknown') affected = await requeueUnknown(client, campaignId);

    await client.query(
      `UPDATE campaigns SET status = $2::campaign_status, status_code = $3, status_reason = $4, updated_at = now(),
              started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
              finished_at = CASE WHEN $2 = 'cancelled' THEN now() WHEN $2 = 'running' THEN NULL ELSE finished_at END
        WHERE id = $1`,
      [campaignId, TO[action], reason?.code ?? null, reason?.message ?? null],
    );
    await recordCampaignAction(client, campaignId, action);
    await client.query('COMMIT');
    return { status: row.status, affected };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * A template error means every other recipient would fail the same way: pause the campaign
 * with the reason rather than burn through the list. The quality guard pauses marketing
 * campaigns the same way (src/accounts/account-quality.ts). A campaign already paused stays so.
 */
export async function pauseCampaignForOutcome(
  db: Db,
  stops: CampaignStops,
  campaignId: string,
  outcome: Pick<SendOutcome, 'code' | 'message' | 'providerText'>,
  log: Logger,
): Promise<void> {
  const { rows } = await db.pool.query<{ tenant_id: string }>(`SELECT tenant_id FROM campaigns WHERE id = $1`, [campaignId]);
  const tenantId = rows[0]?.tenant_id;
  if (!tenantId) return;
  try {
    await applyCampaignAction(db, tenantId, campaignId, 'pause', {
      reason: { code: outcome.code, message: `Paused by the engine: ${outcome.message}${outcome.providerText ? ` (provider: ${outcome.providerText})` : ''}` },
      stops,
    });
    log.warn({ campaignId, code: outcome.code }, 'campaign paused by the engine');
  } catch (error) {
    if (error instanceof AppError && error.code === 'CAMPAIGN_STATE_CONFLICT') return;
    throw error;
  }
}

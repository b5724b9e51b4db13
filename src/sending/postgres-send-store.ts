/** The SendStore the engine runs with: Postgres, through the recipient status module. */
import { pauseCampaignForOutcome } from '../campaigns/campaign-actions.js';
import type { CampaignStops } from '../campaigns/campaign-stops.js';
import type { Db } from '../db/database.js';
import { claimForSending, markInterrupted, markOptedOut, writeSendResults } from '../recipients/index.js';
import { addSuppressions } from '../suppressions/suppression-list.js';
import type { SendStore } from './send-ports.js';

export function postgresSendStore(db: Db, stops: CampaignStops): SendStore {
  return {
    claim: (jobs) => claimForSending(db.pool, jobs),
    writeResults: (writes) => writeSendResults(db.pool, writes),
    async markInterrupted(recipientId) {
      await markInterrupted(db.pool, [recipientId]);
    },
    async recordOptOut(recipientId, detail) {
      const optedOut = await markOptedOut(db.pool, recipientId);
      if (optedOut) await addSuppressions(db, optedOut.tenantId, [{ phone: optedOut.phone, reason: 'PROVIDER_OPTED_OUT', detail }]);
    },
    pauseCampaign: (campaignId, outcome, log) => pauseCampaignForOutcome(db, stops, campaignId, outcome, log),
  };
}

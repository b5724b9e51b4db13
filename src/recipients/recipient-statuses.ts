/** Groups of recipient statuses the rest of the engine reads by. */
import type { RecipientStatus } from './transitions.js';

/** Final from the sender's point of view: nothing more will be sent to this recipient. */
export const FINAL_STATUSES: readonly RecipientStatus[] = ['accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'cancelled'];
/** Work still to do for a campaign. */
export const OPEN_STATUSES: readonly RecipientStatus[] = ['pending', 'deferred', 'queued', 'sending'];

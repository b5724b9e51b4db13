/**
 * The recipient status module: the only code that changes `recipients` rows after ingest. The
 * transition table (./transitions.ts) is the truth; each operation is its own file.
 */
export { ALL_STATUSES, canTransition, recipientStatusGuardSql, TRANSITIONS, transitionPairs, type Queryable, type RecipientStatus } from './transitions.js';
export { FINAL_STATUSES, OPEN_STATUSES } from './recipient-statuses.js';
export { markQueued, markQueuedIds, peekFeedable, type FeedCandidate, type FeedTarget } from './feed-recipients.js';
export { deferRecipients, type DeferredWrite } from './defer-recipients.js';
export { holdForAccountLimit, holdLimitStragglers, marketingBarredSql, releaseFromAccountLimit, releasePoolWork } from './account-limit.js';
export { expireOverdue } from './expire-overdue.js';
export { claimForSending, type ClaimedRecipient, type ClaimJob, type ClaimResult } from './claim-for-sending.js';
export { writeSendResults, type SendResultWrite } from './write-send-results.js';
export { expireStaleSending, markInterrupted } from './mark-unknown.js';
export { cancelOpenRecipients, requeueUnknown, unqueueCampaign } from './campaign-moves.js';
export { recordDeliveryStatuses, type DeliveryStatusWrite } from './record-delivery-statuses.js';
export { recordProviderFailure, type ProviderFailureWrite } from './record-provider-failure.js';
export { markOptedOut, recordReply, type ReplyWrite } from './record-reply.js';
export { finishSingleMessage, singleMessageStatus, startSingleMessage, type SingleMessageEnd, type SingleMessageKind, type SingleMessageStart } from './single-messages.js';

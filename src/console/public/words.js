// Sentences for states and codes, all from the catalog.
import { clock, has, number, t } from './i18n.js';

export function statusLabel(status) {
  return t(`status.${status}`);
}

/** The account's state in words: sending; slowed after 429s; circuit open until...; etc. */
export function accountStateText(state) {
  if (!state) return '';
  switch (state.kind) {
    case 'sending':
      return t('state.sending', { rate: number(state.rate, 1), limit: number(state.configuredRate) });
    case 'slowed':
      return t('state.slowed', { rate: number(state.rate, 1), limit: number(state.configuredRate) });
    case 'circuit_open':
      return t('state.circuitOpen', { until: clock(state.until, true) });
    case 'messaging_limit':
      return state.until ? t('state.messagingLimit', { until: clock(state.until) }) : t('state.messagingLimitNoTime');
    case 'quiet_hours':
      return state.until ? t('state.quietHours', { until: clock(state.until) }) : t('state.quietHoursNoTime');
    case 'scheduled':
      return t('state.scheduled', { until: clock(state.until) });
    case 'paused':
      return t('state.paused', { reason: reasonText(state.code, state.reason) });
    case 'account_limited':
      return state.until
        ? t('state.accountLimited', { reason: reasonText(state.code, state.reason), until: clock(state.until) })
        : t('state.accountLimitedNoTime', { reason: reasonText(state.code, state.reason) });
    case 'account_paused':
      return t('state.accountPaused', { reason: reasonText(state.code, state.reason) });
    case 'idle':
      return t('state.idle', { status: statusLabel(state.campaignStatus) });
    default:
      return '';
  }
}

/** A reason code's sentence from the catalog; else the engine's own reason; else the code. */
export function reasonText(code, reason) {
  if (code && has(`code.${code}`)) return t(`code.${code}`);
  return reason || code || t('state.noReason');
}

export function codeSentence(code) {
  return has(`code.${code}`) ? t(`code.${code}`) : t('code.other', { code });
}

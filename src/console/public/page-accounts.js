// Provider accounts: state and reason, rate, messaging-limit use in the rolling 24 h, breaker,
// quality as the provider last reported it, last webhook event, contacto-multichat balance, templates with approval state and a sync.
import { api } from './api.js';
import { announce, clear, h } from './dom.js';
import { dateTime, number, t } from './i18n.js';
import { accountStateText } from './words.js';

/** What the provider's account-level webhooks last said: rating, flag, tier, restriction. */
function qualityText(q) {
  if (!q || (!q.rating && !q.flagged && !q.tier && !q.restriction)) return t('accounts.qualityNone');
  return [q.rating, q.flagged ? t('accounts.flagged') : null, q.tier ? t('accounts.tier', { tier: q.tier }) : null, q.restriction ? t('accounts.restricted', { code: q.restriction.code }) : null]
    .filter(Boolean).join(', ');
}

export async function render(main) {
  const [{ accounts }, { templates }] = await Promise.all([api('/v1/accounts'), api('/v1/templates')]);
  const list = h('div', { class: 'accounts' });
  clear(main, h('h1', {}, t('accounts.title')), accounts.length === 0 ? h('p', {}, t('accounts.none')) : list);
  for (const account of accounts) {
    const details = h('dl', { class: 'facts' }, h('dt', {}, t('common.loading')));
    const mine = templates.filter((tp) => tp.accountId === account.id);
    const result = h('p', { role: 'status' });
    const headingId = `acc-${account.id}`;
    list.append(h('section', { class: 'card', 'aria-labelledby': headingId },
      h('h2', { id: headingId }, account.name, ' ', h('span', { class: 'muted' }, `(${account.provider})`)),
      details,
      h('h3', {}, t('accounts.templates')),
      mine.length === 0 ? h('p', {}, t('accounts.noTemplates')) : h('table', {}, h('thead', {}, h('tr', {}, ['name', 'language', 'category', 'status'].map((k) => h('th', { scope: 'col' }, t(`accounts.tcol.${k}`))))),
        h('tbody', {}, mine.map((tp) => h('tr', {}, h('td', {}, tp.name), h('td', {}, tp.language), h('td', {}, tp.category), h('td', {}, t(`template.status.${tp.status}`)))))),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: async () => {
        result.textContent = t('common.loading');
        try {
          const r = await api(`/v1/accounts/${account.id}/templates/sync`, { method: 'POST' });
          result.textContent = t('accounts.synced', { created: number(r.created ?? 0), updated: number(r.updated ?? 0) });
        } catch (e) {
          result.textContent = e.text ?? String(e);
        }
        announce(result.textContent);
      } }, t('accounts.sync', { name: account.name }))),
      result));
    void api(`/v1/accounts/${account.id}/state`).then((s) => {
      const limit = s.messagingLimit ? t('accounts.limitUse', { used: number(s.messagingLimit.used), limit: number(s.messagingLimit.limit) }) : t('accounts.noLimit');
      const breaker = t(`breaker.${s.breaker.state}`, { until: s.breaker.retryAt ? dateTime(s.breaker.retryAt) : '' });
      clear(details,
        h('dt', {}, t('accounts.state')), h('dd', {}, accountStateText(s.state)),
        h('dt', {}, t('accounts.rate')), h('dd', {}, t('accounts.rateValue', { rate: number(account.ratePerSecond) })),
        h('dt', {}, t('accounts.limit')), h('dd', {}, limit),
        h('dt', {}, t('accounts.quality')), h('dd', {}, qualityText(account.quality)),
        h('dt', {}, t('accounts.breaker')), h('dd', {}, breaker),
        h('dt', {}, t('accounts.webhook')), h('dd', {}, s.lastWebhookAt ? dateTime(s.lastWebhookAt) : t('accounts.noWebhook')),
        s.balance ? [h('dt', {}, t('accounts.balance')), h('dd', {}, s.balance.value === null ? (s.balance.warning ?? t('common.unknown')) : number(s.balance.value))] : null);
    }).catch((e) => clear(details, h('dd', { class: 'error' }, e.text ?? String(e))));
  }
}

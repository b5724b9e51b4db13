// One campaign: live progress and account state, actions with confirmations that say how many
// recipients they touch, downloads, funnel and rate charts, failures with click-through, and
// the recipients table with each one's history and replies.
import { api, liveCampaigns } from './api.js';
import { funnelChart, rateChart } from './charts.js';
import { announce, clear, confirmDialog, field, h } from './dom.js';
import { clock, dateTime, duration, number, percent, t } from './i18n.js';
import { accountStateText, codeSentence, statusLabel } from './words.js';

const RECIPIENT_STATUSES = ['pending', 'deferred', 'queued', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'cancelled'];

export async function render(main, { id }) {
  const campaign = await api(`/v1/campaigns/${id}`);
  let snapshot = { campaign: { status: campaign.status, statusCode: campaign.statusCode, statusReason: campaign.statusReason }, progress: campaign.progress, account: { ratePerSecond: 0 }, funnel: null, rate: [], accountState: null };

  const statusEl = h('span', { class: 'badge' }, statusLabel(campaign.status));
  const progressBar = h('progress', { max: 100, value: 0, 'aria-label': t('campaign.progress') });
  const progressText = h('p', { class: 'progress-text' });
  const stateEl = h('p', { class: 'state', role: 'status' });
  const actionsEl = h('div', { class: 'actions' });
  const countsEl = h('dl', { class: 'counts-grid' });
  const funnelEl = h('div');
  const rateEl = h('div');
  const failuresEl = h('div');
  const recipientsEl = h('section', { 'aria-labelledby': 'recipients-title' });
  const historyEl = h('section', { 'aria-labelledby': 'history-title', hidden: true });

  const downloads = h('ul', { class: 'downloads' },
    h('li', {}, h('a', { href: `/v1/campaigns/${id}/export.csv`, download: `campaign-${id}.csv` }, t('campaign.export'))),
    campaign.uploads.map((u) => h('li', {}, h('a', { href: `/v1/campaigns/${id}/uploads/${u.id}/rejected.csv`, download: `rejected-${u.id}.csv` },
      t('campaign.rejectedReport', { file: u.filename ?? u.id.slice(0, 8), rejected: number(u.rejected + u.duplicates) })))));

  clear(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/console/campaigns' }, t('campaigns.title'))),
    h('div', { class: 'title-row' }, h('h1', {}, campaign.name), statusEl),
    h('p', { class: 'muted' }, t('campaign.accountLine', { account: campaign.account.name, created: dateTime(campaign.createdAt) })),
    h('section', { class: 'card', 'aria-labelledby': 'progress-title' },
      h('h2', { id: 'progress-title' }, t('campaign.progress')), progressBar, progressText, stateEl, countsEl, actionsEl),
    campaign.poolId ? poolSection(campaign.accounts) : null,
    h('div', { class: 'two-col' },
      h('section', { class: 'card', 'aria-labelledby': 'funnel-h' }, h('h2', { id: 'funnel-h' }, t('campaign.funnel')), funnelEl),
      h('section', { class: 'card', 'aria-labelledby': 'rate-h' }, h('h2', { id: 'rate-h' }, t('campaign.rate')), rateEl)),
    h('section', { class: 'card', 'aria-labelledby': 'failures-h' }, h('h2', { id: 'failures-h' }, t('campaign.failures')), failuresEl),
    h('section', { class: 'card', 'aria-labelledby': 'downloads-h' }, h('h2', { id: 'downloads-h' }, t('campaign.downloads')), downloads),
    recipientsEl, historyEl);

  function renderLive() {
    const p = snapshot.progress;
    const status = snapshot.campaign.status;
    const ratio = p.total > 0 ? p.done / p.total : 0;
    statusEl.textContent = statusLabel(status);
    progressBar.value = Math.round(ratio * 1000) / 10;
    progressText.textContent = t('campaign.progressText', { done: number(p.done), total: number(p.total), pct: percent(ratio), rate: number(p.ratePerSecond, 1), eta: p.etaSeconds === 0 ? '—' : duration(p.etaSeconds) });
    stateEl.textContent = snapshot.accountState ? accountStateText(snapshot.accountState) : '';
    clear(countsEl, RECIPIENT_STATUSES.filter((s) => p.counts[s] > 0).map((s) => h('div', {}, h('dt', {}, statusLabel(s)), h('dd', {}, number(p.counts[s])))));
    renderActions(status, p.counts);
    if (snapshot.funnel) {
      // A big campaign's funnel is recomputed less often than the progress (it reads every row): say when.
      clear(funnelEl, funnelChart(snapshot.funnel), snapshot.funnelAt ? h('p', { class: 'muted' }, t('funnel.asOf', { time: clock(snapshot.funnelAt, true) })) : null);
      renderFailures(snapshot.funnel);
    }
    clear(rateEl, rateChart(snapshot.rate, snapshot.account.ratePerSecond));
  }

  let actionsKey = '';
  function renderActions(status, counts) {
    const open = counts.pending + counts.deferred + counts.queued;
    const key = `${status}:${open}:${counts.unknown}`;
    if (key === actionsKey) return;
    actionsKey = key;
    const buttons = [];
    if (status === 'draft') buttons.push(action('start', t('action.start'), t('confirm.start', { n: number(counts.pending) })));
    if (status === 'running') buttons.push(action('pause', t('action.pause'), t('confirm.pause', { n: number(open) })));
    if (status === 'paused') buttons.push(action('resume', t('action.resume'), t('confirm.resume', { n: number(open) })));
    if (['draft', 'running', 'paused'].includes(status)) buttons.push(action('cancel', t('action.cancel'), t('confirm.cancel', { n: number(open + counts.sending) }), true));
    if (counts.unknown > 0) buttons.push(action('resend-unknown', t('action.resendUnknown'), t('confirm.resendUnknown', { n: number(counts.unknown) })));
    clear(actionsEl, buttons);
  }

  function action(name, label, body, danger = false) {
    return h('button', { type: 'button', class: danger ? 'danger' : '', onclick: async () => {
      const ok = await confirmDialog({ title: t('confirm.title', { action: label }), body, confirm: label, cancel: t('common.back'), danger });
      if (!ok) return;
      try {
        const result = await api(`/v1/campaigns/${id}/${name}`, { method: 'POST' });
        snapshot.campaign.status = result.status;
        actionsKey = '';
        renderLive();
        announce(t('action.done', { action: label, n: number(result.affected) }));
      } catch (e) {
        announce(e.text ?? String(e));
        alertBox(e.text ?? String(e));
      }
    } }, label);
  }

  function alertBox(text) {
    actionsEl.append(h('p', { class: 'error', role: 'alert' }, text));
  }

  let failuresKey = '';
  function renderFailures(funnel) {
    const key = JSON.stringify([funnel.failuresByCode, funnel.failuresByProviderCode]);
    if (key === failuresKey) return;
    failuresKey = key;
    if (funnel.failuresByCode.length === 0) return clear(failuresEl, h('p', {}, t('campaign.noFailures')));
    clear(failuresEl,
      h('h3', {}, t('campaign.byCode')),
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('col.code')), h('th', { scope: 'col' }, t('col.meaning')), h('th', { scope: 'col', class: 'num' }, t('col.count')), h('th', { scope: 'col' }, t('col.recipients')))),
        h('tbody', {}, funnel.failuresByCode.map((f) => h('tr', {}, h('td', {}, h('code', {}, f.code)), h('td', {}, codeSentence(f.code)), h('td', { class: 'num' }, number(f.count)),
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => showFailures(f.code) }, t('campaign.showRecipients', { code: f.code })))))))),
      funnel.failuresByProviderCode.length === 0 ? null : h('h3', {}, t('campaign.byProviderCode')),
      funnel.failuresByProviderCode.length === 0 ? null : h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('col.providerCode')), h('th', { scope: 'col' }, t('col.code')), h('th', { scope: 'col' }, t('col.meaning')), h('th', { scope: 'col', class: 'num' }, t('col.count')), h('th', { scope: 'col' }, t('col.recipients')))),
        h('tbody', {}, funnel.failuresByProviderCode.map((f) => h('tr', {}, h('td', {}, h('code', {}, f.providerCode)), h('td', {}, h('code', {}, f.code)), h('td', {}, codeSentence(f.code)), h('td', { class: 'num' }, number(f.count)),
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => showFailures(f.code, f.providerCode) }, t('campaign.showRecipients', { code: f.providerCode }))))))))); 
  }

  // Recipients table: by status, or the failures with one code (click-through).
  const statusSelect = h('select', {}, h('option', { value: '' }, t('recipients.all')), RECIPIENT_STATUSES.map((s) => h('option', { value: s }, statusLabel(s))));
  const recipientsTitle = h('h2', { id: 'recipients-title', tabindex: '-1' }, t('recipients.title'));
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, t('recipients.more'));
  let source = { url: () => `/v1/campaigns/${id}/recipients?limit=50${statusSelect.value ? `&status=${statusSelect.value}` : ''}` };
  let next = null;
  clear(recipientsEl, recipientsTitle, h('div', { class: 'filters' }, field(t('recipients.filterStatus'), statusSelect)),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['line', 'phone', 'status', 'attempts', 'error', 'updated', 'history'].map((k) => h('th', { scope: 'col' }, t(`recipients.col.${k}`))))), tbody)), more);
  recipientsEl.classList.add('card');

  async function loadRecipients(reset) {
    if (reset) { tbody.replaceChildren(); next = null; }
    const url = source.url() + (next ? `&after=${next}` : '');
    const page = await api(url);
    next = page.next;
    more.hidden = !next;
    for (const r of page.recipients) {
      tbody.append(h('tr', {}, h('td', { class: 'num' }, r.line ?? ''), h('td', {}, r.phone), h('td', {}, statusLabel(r.status)), h('td', { class: 'num' }, r.attempts),
        h('td', {}, r.errorCode ? h('span', { title: r.providerErrorText ?? '' }, r.errorCode, r.providerErrorCode ? ` (${r.providerErrorCode})` : '') : ''),
        h('td', {}, dateTime(r.updatedAt)),
        h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => showHistory(r) }, t('recipients.historyOf', { phone: r.phone })))));
    }
    if (page.recipients.length === 0 && reset) tbody.append(h('tr', {}, h('td', { colspan: 7 }, t('recipients.none'))));
  }
  more.addEventListener('click', () => loadRecipients(false));
  statusSelect.addEventListener('change', () => {
    source = { url: () => `/v1/campaigns/${id}/recipients?limit=50${statusSelect.value ? `&status=${statusSelect.value}` : ''}` };
    recipientsTitle.textContent = t('recipients.title');
    void loadRecipients(true);
  });

  async function showFailures(code, providerCode) {
    source = { url: () => `/v1/campaigns/${id}/failures/recipients?limit=50&code=${encodeURIComponent(code)}${providerCode ? `&providerCode=${encodeURIComponent(providerCode)}` : ''}` };
    recipientsTitle.textContent = providerCode ? t('recipients.withProviderCode', { code, providerCode }) : t('recipients.withCode', { code });
    statusSelect.value = 'failed';
    await loadRecipients(true);
    recipientsTitle.focus();
  }

  async function showHistory(r) {
    const [{ events }, { replies }] = await Promise.all([api(`/v1/campaigns/${id}/recipients/${r.id}/history`), api(`/v1/campaigns/${id}/replies?limit=500`)]);
    const mine = replies.filter((x) => x.recipientId === r.id);
    historyEl.hidden = false;
    historyEl.classList.add('card');
    const title = h('h2', { id: 'history-title', tabindex: '-1' }, t('history.title', { phone: r.phone }));
    clear(historyEl, title,
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['when', 'status', 'source', 'error', 'detail'].map((k) => h('th', { scope: 'col' }, t(`history.col.${k}`))))),
        h('tbody', {}, events.map((e) => h('tr', {}, h('td', {}, dateTime(e.occurredAt)), h('td', {}, statusLabel(e.status)), h('td', {}, t(`source.${e.source}`)), h('td', {}, [e.errorCode, e.providerCode].filter(Boolean).join(' / ')), h('td', {}, e.detail ?? '')))))),
      h('h3', {}, t('history.replies')),
      mine.length === 0 ? h('p', {}, t('history.noReplies')) : h('ul', {}, mine.map((x) => h('li', {}, `${dateTime(x.receivedAt)}: `, x.text ?? x.buttonPayload ?? '', x.optOut ? ` (${t('history.optOut')})` : ''))));
    title.focus();
  }

  renderLive();
  void loadRecipients(true);
  liveCampaigns([id], (snap) => {
    snapshot = snap;
    renderLive();
  });
}

/** A pool campaign's accounts: each one's state and its share of the recipients handed out so far. */
function poolSection(accounts) {
  return h('section', { class: 'card', 'aria-labelledby': 'pool-h' },
    h('h2', { id: 'pool-h' }, t('campaign.pool')),
    h('table', {},
      h('thead', {}, h('tr', {}, [t('campaign.poolAccount'), t('campaign.poolProvider'), t('campaign.poolState'), t('campaign.poolShare')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, accounts.map((a) => h('tr', {},
        h('td', {}, a.name), h('td', {}, a.provider),
        h('td', {}, a.statusCode ? `${a.status} (${a.statusCode})` : a.status),
        h('td', {}, `${percent(a.share)} · ${number(a.assigned)}`))))));
}

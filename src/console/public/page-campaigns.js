// The campaigns list: status, live progress, rate against the account's limit, ETA and counts;
// filter by status and account, search by name.
import { api, liveCampaigns } from './api.js';
import { clear, field, h } from './dom.js';
import { duration, number, percent, t } from './i18n.js';
import { statusLabel } from './words.js';

const STATUSES = ['draft', 'running', 'paused', 'completed', 'cancelled'];

export async function render(main) {
  const [{ campaigns }, { accounts }] = await Promise.all([api('/v1/campaigns?limit=200'), api('/v1/accounts')]);
  const accountName = new Map(accounts.map((a) => [a.id, a.name]));
  const statusFilter = h('select', {}, h('option', { value: '' }, t('campaigns.allStatuses')), STATUSES.map((s) => h('option', { value: s }, statusLabel(s))));
  const accountFilter = h('select', {}, h('option', { value: '' }, t('campaigns.allAccounts')), accounts.map((a) => h('option', { value: a.id }, a.name)));
  const search = h('input', { type: 'search', autocomplete: 'off' });
  const tbody = h('tbody');
  const count = h('p', { class: 'muted', role: 'status' });
  const rows = new Map();

  for (const c of campaigns) {
    const progress = h('progress', { max: 100, value: 0, 'aria-label': t('campaigns.progressOf', { name: c.name }) });
    const cells = {
      status: h('td', {}, statusLabel(c.status)),
      progress: h('td', {}, progress, h('span', { class: 'pct' }, '')),
      rate: h('td', { class: 'num' }, '—'),
      eta: h('td', {}, '—'),
      counts: h('td', { class: 'counts' }, '—'),
    };
    const tr = h('tr', {}, h('th', { scope: 'row' }, h('a', { href: `/console/campaigns/${c.id}` }, c.name)), cells.status, h('td', {}, accountName.get(c.accountId) ?? ''), cells.progress, cells.rate, cells.eta, cells.counts);
    rows.set(c.id, { c, tr, cells, progress });
    tbody.append(tr);
  }

  function applyFilters() {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    for (const { c, tr } of rows.values()) {
      const visible = (!statusFilter.value || c.status === statusFilter.value) && (!accountFilter.value || c.accountId === accountFilter.value) && (!q || c.name.toLowerCase().includes(q));
      tr.hidden = !visible;
      if (visible) shown += 1;
    }
    count.textContent = t('campaigns.count', { shown: number(shown), total: number(rows.size) });
  }
  for (const control of [statusFilter, accountFilter]) control.addEventListener('change', applyFilters);
  search.addEventListener('input', applyFilters);

  clear(main,
    h('div', { class: 'title-row' }, h('h1', {}, t('campaigns.title')), h('a', { class: 'button primary', href: '/console/campaigns/new' }, t('nav.new'))),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      field(t('campaigns.filterStatus'), statusFilter), field(t('campaigns.filterAccount'), accountFilter), field(t('campaigns.search'), search)),
    count,
    campaigns.length === 0
      ? h('p', {}, t('campaigns.none'))
      : h('div', { class: 'table-wrap' }, h('table', {},
          h('caption', { class: 'visually-hidden' }, t('campaigns.title')),
          h('thead', {}, h('tr', {}, ['name', 'status', 'account', 'progress', 'rate', 'eta', 'counts'].map((k) => h('th', { scope: 'col' }, t(`campaigns.col.${k}`))))),
          tbody)));
  applyFilters();

  // Live figures for the most recent campaigns (the stream takes up to 50).
  liveCampaigns(campaigns.slice(0, 50).map((c) => c.id), (snap) => {
    const row = rows.get(snap.campaign.id);
    if (!row) return;
    const p = snap.progress;
    const ratio = p.total > 0 ? p.done / p.total : 0;
    row.c.status = snap.campaign.status;
    row.cells.status.textContent = statusLabel(snap.campaign.status);
    row.progress.value = Math.round(ratio * 100);
    row.cells.progress.querySelector('.pct').textContent = ` ${percent(ratio)}`;
    row.cells.rate.textContent = t('campaigns.rate', { rate: number(p.ratePerSecond, 1), limit: number(snap.account.ratePerSecond) });
    row.cells.eta.textContent = p.etaSeconds === 0 ? '—' : duration(p.etaSeconds);
    row.cells.counts.textContent = ['pending', 'queued', 'sent', 'delivered', 'read', 'failed', 'unknown']
      .filter((s) => p.counts[s] > 0).map((s) => `${statusLabel(s)} ${number(p.counts[s])}`).join(' · ') || '—';
  });
}

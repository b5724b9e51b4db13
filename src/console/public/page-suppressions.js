// The tenant's suppression list: search, add, remove, import (a CSV) and export.
import { api, csrfHeaders, readResponse } from './api.js';
import { announce, clear, confirmDialog, field, h } from './dom.js';
import { dateTime, number, t } from './i18n.js';

export async function render(main) {
  const search = h('input', { type: 'search', autocomplete: 'off', inputmode: 'tel' });
  const phone = h('input', { type: 'tel', autocomplete: 'off' });
  const file = h('input', { type: 'file', accept: '.csv,text/csv' });
  const message = h('p', { role: 'status' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, t('recipients.more'));
  let cursor = null;
  // Typing searches at every key: only the latest search's answer is shown.
  let generation = 0;

  async function load(reset) {
    if (reset) cursor = null;
    const mine = ++generation;
    const params = new URLSearchParams({ limit: '50' });
    if (search.value.trim()) params.set('phone', search.value.trim());
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await api(`/v1/suppressions?${params}`);
      if (mine !== generation) return;
      if (reset) tbody.replaceChildren();
      const items = page.suppressions ?? page.items ?? [];
      cursor = page.next ?? page.cursor ?? null;
      more.hidden = !cursor;
      for (const s of items) {
        tbody.append(h('tr', {}, h('td', {}, s.phone), h('td', {}, s.reason ?? ''), h('td', {}, s.detail ?? ''), h('td', {}, dateTime(s.createdAt)),
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => remove(s.phone) }, t('suppressions.remove', { phone: s.phone })))));
      }
      if (reset && items.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 5 }, t('suppressions.none'))));
    } catch (e) {
      message.textContent = e.text ?? String(e);
    }
  }

  async function remove(p) {
    const ok = await confirmDialog({ title: t('suppressions.removeTitle'), body: t('suppressions.removeBody', { phone: p }), confirm: t('suppressions.removeConfirm'), cancel: t('common.back'), danger: true });
    if (!ok) return;
    try {
      await api(`/v1/suppressions/${encodeURIComponent(p)}`, { method: 'DELETE' });
      // The sentence comes once the list no longer shows the phone, so what it says is on screen.
      await load(true);
      message.textContent = t('suppressions.removed', { phone: p });
    } catch (e) {
      message.textContent = e.text ?? String(e);
    }
    announce(message.textContent);
  }

  const addForm = h('form', { class: 'inline-form' }, field(t('suppressions.phone'), phone, t('suppressions.phoneHint')), h('button', { type: 'submit', class: 'primary' }, t('suppressions.add')));
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/v1/suppressions', { method: 'POST', body: { phone: phone.value } });
      const added = phone.value;
      phone.value = '';
      await load(true);
      message.textContent = t('suppressions.added', { phone: added });
    } catch (err) {
      message.textContent = err.text ?? String(err);
    }
    announce(message.textContent);
  });

  const importForm = h('form', { class: 'inline-form' }, field(t('suppressions.importFile'), file, t('suppressions.importHint')), h('button', { type: 'submit' }, t('suppressions.import')));
  importForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files?.[0];
    if (!f) { message.textContent = t('suppressions.importMissing'); return file.focus(); }
    try {
      const response = await fetch(`/v1/suppressions/import?filename=${encodeURIComponent(f.name)}`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'text/csv', ...csrfHeaders('POST') }, body: f });
      const result = readResponse(response.status, await response.text());
      await load(true);
      message.textContent = t('suppressions.imported', { n: number(result.added ?? 0) });
    } catch (err) {
      message.textContent = err.text ?? String(err);
    }
    announce(message.textContent);
  });

  search.addEventListener('input', () => void load(true));
  more.addEventListener('click', () => void load(false));
  clear(main, h('h1', {}, t('suppressions.title')),
    h('section', { class: 'card' }, h('h2', {}, t('suppressions.addTitle')), addForm, importForm,
      h('p', {}, h('a', { href: '/v1/suppressions/export.csv', download: 'suppressions.csv' }, t('suppressions.export')))),
    message,
    h('section', { class: 'card' }, h('h2', {}, t('suppressions.listTitle')), h('form', { role: 'search', onsubmit: (e) => e.preventDefault() }, field(t('suppressions.search'), search)),
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['phone', 'reason', 'detail', 'added', 'action'].map((k) => h('th', { scope: 'col' }, t(`suppressions.col.${k}`))))), tbody)), more));
  await load(true);
}

// Sign-in: the API key is posted once and becomes an httpOnly session cookie; it is never kept
// in the page, in storage or in a URL.
import { api } from './api.js';
import { clear, field, h } from './dom.js';
import { t } from './i18n.js';

export async function render(main) {
  const input = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('p', {}, t('signIn.intro')),
    field(t('signIn.apiKey'), input, t('signIn.hint')),
    error,
    h('button', { type: 'submit', class: 'primary' }, t('signIn.submit')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!input.value.trim()) {
      error.textContent = t('signIn.empty');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    try {
      await api('/console/session', { method: 'POST', body: { apiKey: input.value } });
      input.value = '';
      const next = new URLSearchParams(location.search).get('next');
      location.assign(next && /^\/(console|admin\/queues)/.test(next) ? next : '/console/campaigns');
    } catch (e) {
      error.textContent = e.text ?? String(e);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  clear(main, h('h1', {}, t('signIn.title')), form);
  input.focus();
}

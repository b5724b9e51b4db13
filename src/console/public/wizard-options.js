// The wizard's options step: start now or at a time in a chosen zone, allowed hours, expiry,
// error budget, header media and button parameters where the template has them. Saved on the
// draft with PATCH /v1/campaigns/:id/settings.
import { api } from './api.js';
import { field, h } from './dom.js';
import { t } from './i18n.js';
import { zonedToIso, zoneList } from './zones.js';

export function renderOptionsStep({ body, heading, error, template: tp, campaignId, onSaved }) {
  const zones = zoneList();
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const when = h('select', {}, h('option', { value: 'now' }, t('options.startNow')), h('option', { value: 'later' }, t('options.startLater')));
  const startAt = h('input', { type: 'datetime-local' });
  const zone = h('select', {}, zones.map((z) => h('option', { value: z, selected: z === here }, z)));
  const quiet = h('input', { type: 'checkbox' });
  const from = h('input', { type: 'time', value: '09:00' });
  const to = h('input', { type: 'time', value: '20:00' });
  const expires = h('input', { type: 'datetime-local' });
  const budget = h('input', { type: 'number', min: 0, max: 100, step: 1, value: 50 });
  const media = tp.headerType && tp.headerType !== 'none' ? h('input', { type: 'url', placeholder: 'https://' }) : null;
  const buttonInputs = (tp.buttons ?? []).map((b, index) => (b.type === 'URL' || b.type === 'QUICK_REPLY' ? { index, b, input: h('input', { type: 'text' }) } : null)).filter(Boolean);
  const later = h('div', { hidden: true }, field(t('options.startAt'), startAt));
  when.addEventListener('change', () => { later.hidden = when.value !== 'later'; });
  const quietFields = h('div', { hidden: true }, field(t('options.quietFrom'), from), field(t('options.quietTo'), to));
  quiet.addEventListener('change', () => { quietFields.hidden = !quiet.checked; });
  body.append(heading,
    field(t('options.zone'), zone, t('options.zoneHint')),
    field(t('options.when'), when), later,
    h('div', { class: 'field checkbox' }, quiet, h('label', { for: quiet.id || (quiet.id = 'quiet') }, t('options.quiet'))), quietFields,
    h('p', { class: 'hint' }, t('options.quietHint')),
    field(t('options.expires'), expires, t('options.expiresHint')),
    field(t('options.budget'), budget, t('options.budgetHint')),
    media ? field(t('options.media', { type: t(`template.header.${tp.headerType}`) }), media, t('options.mediaHint')) : null,
    buttonInputs.map(({ b, input }) => field(t('options.buttonParam', { text: b.text }), input, t(b.type === 'URL' ? 'options.buttonUrlHint' : 'options.buttonQuickHint'))),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: async () => {
      error.textContent = '';
      if (when.value === 'later' && !startAt.value) { error.textContent = t('options.startAtMissing'); return startAt.focus(); }
      const options = {};
      if (media) {
        if (!media.value) { error.textContent = t('options.mediaMissing'); return media.focus(); }
        options.headerMedia = { type: tp.headerType, link: media.value };
      }
      const params = buttonInputs.filter(({ input }) => input.value.trim()).map(({ index, b, input }) => ({ index, subType: b.type === 'URL' ? 'url' : 'quick_reply', value: input.value.trim() }));
      if (params.length) options.buttonParams = params;
      const settings = {
        startAt: when.value === 'later' ? zonedToIso(startAt.value, zone.value) : null,
        expiresAt: zonedToIso(expires.value, zone.value),
        sendWindow: quiet.checked ? { start: from.value, end: to.value } : null,
        errorBudget: budget.value === '' ? null : Number(budget.value) / 100,
        options,
      };
      try {
        await api(`/v1/campaigns/${campaignId}/settings`, { method: 'PATCH', body: settings });
        onSaved(settings);
      } catch (e) {
        error.textContent = e.text ?? String(e);
      }
    } }, t('common.continue'))));
}

// The upload wizard, one question per step: account and template; file; preview and column
// mapping (from the engine's own ingest code, via POST /v1/uploads/preview); validation report
// (after the real upload); options; confirm and start. The file is never read into the page:
// the preview gets its first bytes (a Blob slice), the upload streams the File object itself.
import { api, csrfHeaders, readResponse } from './api.js';
import { clear, field, h } from './dom.js';
import { dateTime, number, percent, t } from './i18n.js';
import { codeSentence } from './words.js';
import { uploadFile } from './upload-file.js';
import { renderOptionsStep } from './wizard-options.js';

const SAMPLE_BYTES = 256 * 1024;
const COUNTRIES = ['CL', 'AR', 'BO', 'BR', 'CO', 'CR', 'EC', 'ES', 'GT', 'HN', 'MX', 'PA', 'PE', 'PY', 'SV', 'US', 'UY', 'VE'];
const STEPS = ['template', 'file', 'preview', 'report', 'options', 'confirm'];

export async function render(main) {
  const [{ accounts }, { templates }] = await Promise.all([api('/v1/accounts'), api('/v1/templates')]);
  const state = { step: 0, file: null, preview: null, mapping: { phoneColumn: null, variables: [] }, campaign: null, upload: null, settings: null };

  const stepList = h('ol', { class: 'steps' });
  const body = h('div', { class: 'card' });
  clear(main, h('h1', {}, t('wizard.title')), h('nav', { 'aria-label': t('wizard.progress') }, stepList), body);

  function show(step) {
    state.step = step;
    clear(stepList, STEPS.map((s, i) => h('li', { 'aria-current': i === step ? 'step' : null, class: i < step ? 'done' : '' }, t(`wizard.step.${s}`))));
    const views = [stepTemplate, stepFile, stepPreview, stepReport, stepOptions, stepConfirm];
    clear(body);
    views[step]();
    body.querySelector('h2')?.focus();
  }

  function heading(key) {
    return h('h2', { tabindex: '-1' }, t('wizard.stepOf', { n: state.step + 1, total: STEPS.length }), ' ', t(`wizard.step.${key}`));
  }
  function errorBox() {
    return h('p', { class: 'error', role: 'alert' });
  }

  // 1. Account and template
  const name = h('input', { type: 'text', required: true, maxlength: 200, autocomplete: 'off' });
  const accountSel = h('select', {}, accounts.map((a) => h('option', { value: a.id }, a.name)));
  const templateSel = h('select');
  const country = h('select', {}, COUNTRIES.map((c) => h('option', { value: c }, c)));
  const templateInfo = h('div', { class: 'template-info', 'aria-live': 'polite' });
  function templatesOf(accountId) {
    return templates.filter((tp) => tp.accountId === accountId);
  }
  function fillTemplates() {
    clear(templateSel, templatesOf(accountSel.value).map((tp) => h('option', { value: tp.id }, `${tp.name} (${tp.language})`)));
    describeTemplate();
  }
  function currentTemplate() {
    return templates.find((tp) => tp.id === templateSel.value) ?? null;
  }
  function describeTemplate() {
    const tp = currentTemplate();
    if (!tp) return clear(templateInfo, h('p', {}, t('wizard.noTemplates')));
    const parts = tp.body.split(/(\{\{\s*\d+\s*\}\})/g).map((part) => (/^\{\{/.test(part) ? h('mark', {}, part) : part));
    clear(templateInfo,
      h('p', { class: 'template-body' }, parts),
      h('dl', { class: 'facts' },
        h('dt', {}, t('template.status')), h('dd', { class: tp.status === 'approved' ? 'ok' : 'bad' }, t(`template.status.${tp.status}`)),
        h('dt', {}, t('template.placeholders')), h('dd', {}, number(tp.paramCount)),
        h('dt', {}, t('template.header')), h('dd', {}, t(`template.header.${tp.headerType ?? 'none'}`)),
        h('dt', {}, t('template.buttons')), h('dd', {}, tp.buttons?.length ? tp.buttons.map((b) => `${b.text} (${t(`template.button.${b.type}`)})`).join(', ') : t('template.noButtons'))));
  }
  accountSel.addEventListener('change', fillTemplates);
  templateSel.addEventListener('change', describeTemplate);
  fillTemplates();

  function stepTemplate() {
    const error = errorBox();
    body.append(heading('template'),
      field(t('wizard.name'), name, t('wizard.nameHint')),
      field(t('wizard.account'), accountSel),
      field(t('wizard.template'), templateSel),
      templateInfo,
      field(t('wizard.country'), country, t('wizard.countryHint')),
      error,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => {
        const tp = currentTemplate();
        if (!name.value.trim()) { error.textContent = t('wizard.nameMissing'); name.setAttribute('aria-invalid', 'true'); return name.focus(); }
        if (!tp) { error.textContent = t('wizard.noTemplates'); return templateSel.focus(); }
        if (tp.status !== 'approved') { error.textContent = t('wizard.templateNotApproved', { status: t(`template.status.${tp.status}`) }); return templateSel.focus(); }
        show(1);
      } }, t('common.continue'))));
  }

  // 2. File
  function stepFile() {
    const input = h('input', { type: 'file', accept: '.csv,.txt,.json,.ndjson,.jsonl,text/csv,application/json' });
    const error = errorBox();
    const zone = h('div', { class: 'drop-zone' }, h('p', {}, t('wizard.dropHere')), field(t('wizard.file'), input, t('wizard.fileHint')));
    async function choose(file) {
      if (!file) return;
      state.file = file;
      state.mapping = { phoneColumn: null, variables: [] };
      error.textContent = '';
      try {
        await loadPreview();
        show(2);
      } catch (e) {
        error.textContent = e.text ?? String(e);
      }
    }
    input.addEventListener('change', () => choose(input.files?.[0]));
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); void choose(e.dataTransfer?.files?.[0]); });
    body.append(heading('file'), zone, error, h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => show(0) }, t('common.back'))));
  }

  function formatOf(file) {
    if (/\.json$/i.test(file.name)) return 'json';
    if (/\.(ndjson|jsonl)$/i.test(file.name)) return 'ndjson';
    return 'csv';
  }

  async function loadPreview() {
    const file = state.file;
    const sample = file.slice(0, SAMPLE_BYTES);
    const params = new URLSearchParams({ templateId: templateSel.value, format: formatOf(file), filename: file.name, defaultCountry: country.value, truncated: String(file.size > SAMPLE_BYTES) });
    if (state.mapping.phoneColumn) params.set('phoneColumn', state.mapping.phoneColumn);
    if (state.mapping.variables.length) params.set('variables', state.mapping.variables.join(','));
    const response = await fetch(`/v1/uploads/preview?${params}`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/octet-stream', ...csrfHeaders('POST') }, body: sample });
    const { preview } = readResponse(response.status, await response.text());
    state.preview = preview;
    if (preview.mapping) state.mapping = { phoneColumn: preview.mapping.phoneColumn, variables: [...preview.mapping.variables] };
    else if (!state.mapping.phoneColumn && preview.phoneColumn) state.mapping.phoneColumn = preview.phoneColumn;
  }

  // 3. Preview and mapping
  function stepPreview() {
    const p = state.preview;
    const tp = currentTemplate();
    const error = errorBox();
    if (p.mappingError) error.textContent = p.mappingError.message;
    const options = (selected) => [h('option', { value: '', selected: !selected }, t('preview.choose')), p.columns.map((c) => h('option', { value: c, selected: c === selected }, c))];
    const phoneSel = h('select', {}, options(state.mapping.phoneColumn));
    const varSels = Array.from({ length: tp.paramCount }, (_, i) => h('select', {}, options(state.mapping.variables[i])));
    async function remap() {
      state.mapping = { phoneColumn: phoneSel.value, variables: varSels.map((s) => s.value) };
      // Ask the engine again only once every placeholder has its column.
      if (!phoneSel.value || state.mapping.variables.some((v) => !v)) {
        error.textContent = t('preview.chooseAll');
        return;
      }
      try {
        await loadPreview();
        show(2);
      } catch (e) {
        error.textContent = e.text ?? String(e);
      }
    }
    phoneSel.addEventListener('change', remap);
    varSels.forEach((s) => s.addEventListener('change', remap));
    const delimiter = p.delimiter === ';' ? t('delimiter.semicolon') : p.delimiter === ',' ? t('delimiter.comma') : p.delimiter === '\t' ? t('delimiter.tab') : t('delimiter.none');
    const progress = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': t('wizard.uploadProgress') });
    const progressText = h('p', { role: 'status' });
    const upload = h('button', { type: 'button', class: 'primary', disabled: !p.mapping, onclick: () => startUpload(upload, progress, progressText, error) }, t('wizard.uploadAndCheck'));
    body.append(heading('preview'),
      h('dl', { class: 'facts' },
        h('dt', {}, t('preview.file')), h('dd', {}, `${state.file.name} (${number(state.file.size / 1024, 1)} KB)`),
        h('dt', {}, t('preview.encoding')), h('dd', {}, p.encoding),
        h('dt', {}, t('preview.delimiter')), h('dd', {}, delimiter)),
      h('fieldset', { class: 'mapping' }, h('legend', {}, t('preview.mapping')),
        field(t('preview.phoneColumn'), phoneSel),
        varSels.map((s, i) => field(t('preview.placeholderColumn', { n: i + 1 }), s))),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', {}, t('preview.rowsCaption', { n: p.rows.length })),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('preview.line')), p.columns.map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, t('preview.result')))),
        h('tbody', {}, p.rows.map((r) => h('tr', { class: r.ok ? '' : 'bad-row' }, h('td', { class: 'num' }, r.line), p.columns.map((_, i) => h('td', {}, r.cells[i] ?? '')),
          h('td', {}, r.ok ? t('preview.ok', { phone: r.phone, values: r.variables.join(' | ') }) : (r.problem ? r.problem.message : t('preview.unmapped')))))))),
      error, progress, progressText,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => show(1) }, t('common.back')), upload));
  }

  async function startUpload(button, progress, progressText, error) {
    button.disabled = true;
    error.textContent = '';
    try {
      if (!state.campaign) {
        const created = await api('/v1/campaigns', { method: 'POST', body: { name: name.value.trim(), accountId: accountSel.value, templateId: templateSel.value, defaultCountry: country.value } });
        state.campaign = created.campaign;
      }
      progress.hidden = false;
      const params = new URLSearchParams({ filename: state.file.name });
      if (state.mapping.phoneColumn) params.set('phoneColumn', state.mapping.phoneColumn);
      if (state.mapping.variables.length) params.set('variables', state.mapping.variables.join(','));
      const type = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson' }[formatOf(state.file)];
      const result = await uploadFile(`/v1/campaigns/${state.campaign.id}/recipients?${params}`, state.file, type, (sent, total) => {
        progress.value = total ? Math.round((sent / total) * 100) : 0;
        progressText.textContent = sent >= total ? t('wizard.checking') : t('wizard.uploading', { pct: percent(total ? sent / total : 0) });
      });
      state.upload = result.upload;
      show(3);
    } catch (e) {
      error.textContent = e.text ?? String(e);
      button.disabled = false;
    }
  }

  // 4. Validation report
  function stepReport() {
    const u = state.upload;
    const suppressed = u.rejectedByReason?.PHONE_SUPPRESSED ?? 0;
    const samples = h('div', {}, h('p', {}, t('common.loading')));
    body.append(heading('report'),
      h('dl', { class: 'facts big' },
        h('dt', {}, t('report.total')), h('dd', {}, number(u.totalRows)),
        h('dt', {}, t('report.accepted')), h('dd', { class: 'ok' }, number(u.accepted)),
        h('dt', {}, t('report.rejected')), h('dd', { class: u.rejected ? 'bad' : '' }, number(u.rejected - suppressed)),
        h('dt', {}, t('report.duplicates')), h('dd', {}, number(u.duplicates)),
        h('dt', {}, t('report.suppressed')), h('dd', {}, number(suppressed))),
      samples,
      h('p', {}, h('a', { href: u.rejectedReportUrl, download: `rejected-${u.uploadId}.csv` }, t('report.download'))),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', disabled: u.accepted === 0, onclick: () => show(4) }, t('common.continue'))));
    void api(`/v1/campaigns/${state.campaign.id}/uploads/${u.uploadId}/rejected-samples`).then(({ reasons }) => {
      if (reasons.length === 0) return clear(samples, h('p', {}, t('report.noRejections')));
      clear(samples, h('h3', {}, t('report.byReason')), reasons.map((r) => h('details', {},
        h('summary', {}, `${codeSentence(r.reason)} — ${number(r.count)}`),
        h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('preview.line')), h('th', { scope: 'col' }, t('report.row')), h('th', { scope: 'col' }, t('report.why')))),
          h('tbody', {}, r.samples.map((s) => h('tr', {}, h('td', { class: 'num' }, s.line), h('td', {}, h('code', {}, s.raw)), h('td', {}, s.message))))))));
    });
  }

  // 5. Options
  function stepOptions() {
    renderOptionsStep({ body, heading: heading('options'), error: errorBox(), template: currentTemplate(), campaignId: state.campaign.id, onSaved: (settings) => {
      state.settings = settings;
      show(5);
    } });
  }

  // 6. Confirm and start
  function stepConfirm() {
    const s = state.settings;
    const error = errorBox();
    body.append(heading('confirm'),
      h('dl', { class: 'facts' },
        h('dt', {}, t('wizard.name')), h('dd', {}, name.value),
        h('dt', {}, t('wizard.account')), h('dd', {}, accountSel.selectedOptions[0]?.textContent ?? ''),
        h('dt', {}, t('wizard.template')), h('dd', {}, templateSel.selectedOptions[0]?.textContent ?? ''),
        h('dt', {}, t('report.accepted')), h('dd', {}, number(state.upload.accepted)),
        h('dt', {}, t('options.when')), h('dd', {}, s.startAt ? dateTime(s.startAt) : t('options.startNow')),
        h('dt', {}, t('options.quiet')), h('dd', {}, s.sendWindow ? `${s.sendWindow.start}–${s.sendWindow.end}` : t('common.no')),
        h('dt', {}, t('options.expires')), h('dd', {}, s.expiresAt ? dateTime(s.expiresAt) : t('common.no')),
        h('dt', {}, t('options.budget')), h('dd', {}, s.errorBudget === null ? t('common.no') : percent(s.errorBudget))),
      h('p', {}, t('confirm.start', { n: number(state.upload.accepted) })),
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => show(4) }, t('common.back')),
        h('a', { class: 'button', href: `/console/campaigns/${state.campaign.id}` }, t('wizard.keepDraft')),
        h('button', { type: 'button', class: 'primary', onclick: async () => {
          try {
            await api(`/v1/campaigns/${state.campaign.id}/start`, { method: 'POST' });
            location.assign(`/console/campaigns/${state.campaign.id}`);
          } catch (e) {
            error.textContent = e.text ?? String(e);
          }
        } }, t('wizard.startCampaign'))));
  }

  show(0);
}

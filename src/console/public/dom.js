// A tiny element builder: h('p', {class: 'x'}, 'text', child). Text is always set as text, never as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
export function uid(prefix = 'f') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled control: <div class="field"><label for>…</label>control<p hint></div>. */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/** Announces a sentence to screen readers. */
export function announce(text) {
  const region = document.getElementById('live-region');
  if (region) region.textContent = text;
}

/** A modal confirmation (<dialog>): resolves true when confirmed. */
export function confirmDialog({ title, body, confirm, cancel, danger = false }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dialog = h('dialog', { 'aria-labelledby': titleId, class: 'confirm' },
      h('h2', { id: titleId }, title),
      h('p', {}, body),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: danger ? 'danger' : 'primary', onclick: () => done(true) }, confirm),
        h('button', { type: 'button', onclick: () => done(false) }, cancel)));
    function done(answer) {
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    dialog.addEventListener('cancel', () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

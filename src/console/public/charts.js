// Two small hand-drawn SVG charts (no chart library: two charts do not earn one). Each has a
// text alternative: a title and a data table for screen readers.
import { h } from './dom.js';
import { number, t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Horizontal bars: accepted, sent, delivered, read, replied; failed; opted out. */
export function funnelChart(funnel) {
  const stages = [
    ['accepted', funnel.accepted, 'bar-ok'],
    ['sent', funnel.sent, 'bar-ok'],
    ['delivered', funnel.delivered, 'bar-ok'],
    ['read', funnel.read, 'bar-ok'],
    ['replied', funnel.replied, 'bar-ok'],
    ['failed', funnel.failed, 'bar-bad'],
    ['optedOut', funnel.optedOut, 'bar-warn'],
  ];
  const max = Math.max(1, funnel.total, ...stages.map(([, v]) => v));
  const rowH = 30;
  const labelW = 130;
  const width = 480;
  const svg = s('svg', { viewBox: `0 0 ${width} ${stages.length * rowH + 4}`, role: 'img', 'aria-labelledby': 'funnel-title', class: 'chart' },
    s('title', { id: 'funnel-title' }, t('funnel.chartTitle')));
  stages.forEach(([key, value, cls], i) => {
    const y = i * rowH + 2;
    const w = Math.max(value > 0 ? 2 : 0, ((width - labelW - 70) * value) / max);
    svg.append(
      s('text', { x: 0, y: y + 18, class: 'chart-label' }, t(`funnel.${key}`)),
      s('rect', { x: labelW, y: y + 4, width: w, height: rowH - 10, class: cls, rx: 2 }),
      s('text', { x: labelW + w + 6, y: y + 18, class: 'chart-value' }, number(value)),
    );
  });
  const table = h('table', { class: 'visually-hidden' }, h('caption', {}, t('funnel.chartTitle')),
    h('tbody', {}, stages.map(([key, value]) => h('tr', {}, h('th', { scope: 'row' }, t(`funnel.${key}`)), h('td', {}, number(value))))));
  return h('figure', { class: 'chart-figure' }, svg, table);
}

/** Sends per second over the last minutes, as a line. */
export function rateChart(points, limit) {
  const width = 480;
  const height = 200;
  const pad = { l: 44, r: 8, t: 10, b: 22 };
  const max = Math.max(1, limit ?? 0, ...points.map((p) => p.n));
  const x = (i) => pad.l + (i * (width - pad.l - pad.r)) / Math.max(1, points.length - 1);
  const y = (v) => height - pad.b - (v * (height - pad.t - pad.b)) / max;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'rate-title', class: 'chart' },
    s('title', { id: 'rate-title' }, t('rate.chartTitle')));
  for (const v of [0, max / 2, max]) {
    svg.append(s('line', { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: 'grid' }), s('text', { x: pad.l - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, number(v)));
  }
  if (limit) svg.append(s('line', { x1: pad.l, x2: width - pad.r, y1: y(limit), y2: y(limit), class: 'limit' }));
  if (points.length > 1) svg.append(s('polyline', { points: points.map((p, i) => `${x(i)},${y(p.n)}`).join(' '), class: 'line' }));
  svg.append(s('text', { x: pad.l, y: height - 4, class: 'axis' }, t('rate.ago', { n: points.length })), s('text', { x: width - pad.r, y: height - 4, class: 'axis', 'text-anchor': 'end' }, t('rate.now')));
  const recent = points.slice(-10);
  const avg = recent.length ? recent.reduce((a, p) => a + p.n, 0) / recent.length : 0;
  return h('figure', { class: 'chart-figure' }, svg, h('figcaption', {}, t('rate.caption', { avg: number(avg, 1), limit: number(limit ?? 0) })));
}

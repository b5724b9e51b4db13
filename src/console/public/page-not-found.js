import { clear, h } from './dom.js';
import { t } from './i18n.js';

export async function render(main) {
  clear(main, h('h1', {}, t('notFound.title')), h('p', {}, t('notFound.body')), h('p', {}, h('a', { href: '/console/campaigns' }, t('notFound.back'))));
}

// Entry point of every console page: sign-out, then the page's own module.
import { api } from './api.js';

const signOut = document.getElementById('sign-out');
signOut?.addEventListener('click', async () => {
  await api('/console/sign-out', { method: 'POST' }).catch(() => undefined);
  location.assign('/console/sign-in');
});

const pages = {
  'sign-in': './page-sign-in.js',
  campaigns: './page-campaigns.js',
  campaign: './page-campaign.js',
  new: './page-new.js',
  accounts: './page-accounts.js',
  suppressions: './page-suppressions.js',
  'not-found': './page-not-found.js',
};
const module = pages[document.body.dataset.page];
if (module) {
  const page = await import(module);
  await page.render(document.getElementById('main'), document.body.dataset);
}

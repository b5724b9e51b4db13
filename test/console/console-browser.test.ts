/**
 * The console in real headless Chromium, found by role and label as a person would: sign in;
 * upload a ;-separated Windows-1252 CSV through the wizard and change one column mapping; see
 * the validation report, start, watch progress reach 100% with no reload; see the funnel and
 * the failure breakdown, pause and resume, download the export; open Bull Board signed in and
 * be refused it signed out; be refused another tenant's campaign. Screenshots of the campaign
 * page, the wizard's preview step and Bull Board go to docs/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import iconv from 'iconv-lite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/fixtures.js';
import { HAVE_CHROMIUM, launchChromium, SKIP_REASON } from './browser.js';
import { createSandboxSender, startConsoleWorld, type ConsoleWorld } from './console-world.js';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/screenshots');
const GOOD_ROWS = 300;
const UNREACHABLE = ['+56980070007', '+56980110011'];

if (!HAVE_CHROMIUM) console.warn(SKIP_REASON);

/** The file a marketer exports from Excel: ;-separated, Windows-1252, a few bad rows. */
function spreadsheetCsv(): Buffer {
  const lines = ['Teléfono;Nombre;Apellido;Monto'];
  for (let i = 0; i < GOOD_ROWS; i++) lines.push(`9 8${String(i).padStart(3, '0')} ${String(i).padStart(4, '0')};José ${i};Muñoz ${i};$ ${12_000 + i}`);
  lines.push('12345;Sin;Número;$ 1'); // not a phone
  lines.push('9 8001 0001;Repetido;Pérez;$ 2'); // duplicate of line 3
  lines.push(';Vacío;Ñandú;$ 3'); // no phone
  return iconv.encode(`${lines.join('\r\n')}\r\n`, 'windows-1252');
}

describe.skipIf(!HAVE_CHROMIUM)('the console in Chromium', () => {
  let w: ConsoleWorld;
  let browser: Browser;
  let otherTenantCampaign: string;
  let campaignId = '';

  beforeAll(async () => {
    w = await startConsoleWorld();
    // The sandbox refuses two of the phones as unreachable: failures to break down.
    w.sandbox.settings.unreachablePhones = UNREACHABLE;
    await createSandboxSender(w.tenantA.api, w.sandbox.url, 25);
    const b = await createSandboxSender(w.tenantB.api, w.sandbox.url, 25, 'Sandbox B');
    const created = await w.tenantB.api.post('/v1/campaigns', { name: 'B secret', accountId: b.accountId, templateId: b.templateId });
    otherTenantCampaign = created.json<{ campaign: { id: string } }>().campaign.id;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await w?.close();
  });

  async function signIn(page: Page, apiKey: string): Promise<void> {
    await page.goto(`${w.baseUrl}/console/campaigns`);
    await page.waitForURL(/\/console\/sign-in/);
    await page.getByLabel('API key').fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/campaigns$/);
  }

  it('takes a spreadsheet through the wizard to a finished campaign, live', async () => {
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'America/Santiago', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    // The page must never read the file itself (a 60 MB file would sit in its memory): count every
    // way a script could, and expect none. Blob.slice (for the preview) reads nothing.
    await page.addInitScript(`
      window.__fileReads = 0;
      for (const name of ['text', 'arrayBuffer', 'stream', 'bytes']) {
        const original = Blob.prototype[name];
        if (original) Blob.prototype[name] = function (...args) { window.__fileReads++; return original.apply(this, args); };
      }
      for (const name of ['readAsText', 'readAsArrayBuffer', 'readAsDataURL', 'readAsBinaryString']) {
        const original = FileReader.prototype[name];
        FileReader.prototype[name] = function (...args) { window.__fileReads++; return original.apply(this, args); };
      }
    `);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await signIn(page, w.tenantA.apiKey);
    expect(await page.evaluate('document.cookie')).not.toContain('wce_session'); // httpOnly
    expect(await page.evaluate('JSON.stringify(localStorage)')).toBe('{}');

    // 1. Account and template
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New campaign' }).click();
    await page.getByLabel('Campaign name').fill('Cobranza diciembre');
    await page.getByText('Hola {{1}}, tu saldo pendiente es {{2}}.').waitFor();
    expect(await page.getByText('Pagar (quick reply)').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Step 2 of 6: File'); // focus follows the step

    // 2. File, 3. preview: the engine read it as Windows-1252 with ";"
    await page.getByLabel('Recipient file').setInputFiles({ name: 'clientes.csv', mimeType: 'text/csv', buffer: spreadsheetCsv() });
    await page.getByRole('heading', { name: /Preview and columns/ }).waitFor();
    expect(await page.getByText('windows-1252').isVisible()).toBe(true);
    expect(await page.getByText('semicolon (;)').isVisible()).toBe(true);
    expect(await page.getByLabel('Column for {{1}}').inputValue()).toBe('Nombre');
    await page.getByLabel('Column for {{1}}').selectOption('Apellido');
    await page.getByRole('cell', { name: '✓ +56980000000 · Muñoz 0 | $ 12000' }).waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}/wizard-preview.png`, fullPage: true });
    await page.getByRole('button', { name: 'Upload and validate' }).click();

    // 4. Validation report
    await page.getByRole('heading', { name: /Validation report/ }).waitFor();
    const facts = await page.locator('dl.facts').innerText();
    expect(facts).toMatch(new RegExp(`Accepted\\s+${GOOD_ROWS}`));
    expect(facts).toMatch(/Duplicates\s+1/);
    expect(facts).toMatch(/Rejected\s+2/);
    await page.getByText(/The phone is not a valid number/).waitFor();
    expect(await page.getByRole('link', { name: 'Download the rejected-rows report (CSV)' }).isVisible()).toBe(true);
    expect(await page.evaluate('window.__fileReads')).toBe(0);
    await page.getByRole('button', { name: 'Continue' }).click();

    // 5. Options, 6. confirm and start
    await page.getByLabel('Error budget (%)').fill('60');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText(`${GOOD_ROWS} recipients will be sent the message.`).waitFor();
    await page.getByRole('button', { name: 'Start campaign' }).click();
    await page.waitForURL(/\/console\/campaigns\/[0-9a-f-]{36}$/);
    campaignId = page.url().split('/').pop() ?? '';
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    const stored = await w.ctx.db.prisma.recipient.findMany({ where: { campaignId }, select: { variables: true }, take: 1, orderBy: { id: 'asc' } });
    expect(stored[0]?.variables).toEqual(['Muñoz 0', '$ 12000']);

    await page.getByRole('heading', { name: 'Cobranza diciembre' }).waitFor();
    expect(pageErrors).toEqual([]);

    // Pause and resume, each confirmed with the number of recipients it touches.
    await page.getByRole('button', { name: 'Pause' }).click();
    const pauseDialog = page.getByRole('dialog', { name: 'Pause?' });
    expect(await pauseDialog.innerText()).toMatch(/\d+ recipients not sent yet will wait until you resume/);
    await pauseDialog.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('status').filter({ hasText: /^Paused: / }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    const resumeDialog = page.getByRole('dialog', { name: 'Resume?' });
    expect(await resumeDialog.innerText()).toMatch(/Sending resumes to the \d+ recipients waiting/);
    await resumeDialog.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('status').filter({ hasText: /^(Sending at|Slowed)/ }).waitFor({ timeout: 30_000 });

    // Progress reaches 100% by itself.
    const progress = page.getByRole('progressbar', { name: 'Progress' });
    await waitFor('progress at 100%', async () => (await progress.getAttribute('value')) === '100', 180_000, 250);
    await page.getByText(`${GOOD_ROWS} of ${GOOD_ROWS} (100%)`).waitFor();
    expect(navigations).toBe(0);

    // Funnel and failure breakdown, with click-through to the recipients.
    await page.getByRole('img', { name: 'Campaign funnel' }).waitFor();
    // It says when it was computed: a big campaign's funnel trails the progress (src/campaigns/funnel-cache.ts).
    await page.getByRole('region', { name: 'Funnel' }).getByText(/^As of \d/).waitFor();
    await page.getByRole('img', { name: 'Messages sent per second' }).waitFor();
    await page.getByRole('cell', { name: 'RECIPIENT_INVALID', exact: true }).first().waitFor({ timeout: 30_000 });
    // Each code with its human sentence, by engine code and by the provider's own code.
    expect(await page.getByRole('cell', { name: 'The number is not valid for the provider.' }).count()).toBe(2);
    expect(await page.getByRole('heading', { name: 'By provider code' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Show recipients with RECIPIENT_INVALID' }).click();
    await page.getByRole('heading', { name: 'Failed recipients with RECIPIENT_INVALID' }).waitFor();
    for (const phone of UNREACHABLE) await page.getByRole('cell', { name: phone, exact: true }).waitFor();
    // A recipient's history: every status change with its source and error.
    await page.getByRole('button', { name: `History of ${UNREACHABLE[0]}` }).click();
    const history = page.getByRole('region', { name: `History of ${UNREACHABLE[0]}` });
    await history.getByRole('row').filter({ hasText: 'send answer' }).filter({ hasText: 'RECIPIENT_INVALID' }).first().waitFor();
    expect(await history.getByText('No replies.').isVisible()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/campaign.png`, fullPage: true });

    // The export downloads every recipient.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export every result (CSV)' }).click()]);
    const exported = readFileSync((await download.path()) ?? '', 'utf8');
    expect(exported.trim().split(/\r?\n/)).toHaveLength(GOOD_ROWS + 1);

    // The list shows it finished too, and filters by status and name.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Cobranza diciembre' });
    await row.getByText('100%').waitFor();
    expect(await row.getByRole('progressbar', { name: 'Progress of Cobranza diciembre' }).getAttribute('value')).toBe('100');
    await page.getByLabel('Search by name').fill('no such campaign');
    await page.getByText('0 of 1 campaigns').waitFor();
    await page.getByLabel('Search by name').fill('cobranza');
    await page.getByLabel('Status').selectOption('completed');
    await page.getByText('1 of 1 campaigns').waitFor();

    // Bull Board, signed in: this tenant's queue only.
    await page.goto(`${w.baseUrl}/admin/queues`);
    await page.getByText(/Sandbox CL \(send-/).first().waitFor({ timeout: 30_000 });
    const queues = await page.request.get(`${w.baseUrl}/admin/queues/api/queues`);
    const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toHaveLength(1);
    await page.screenshot({ path: `${SCREENSHOTS}/bull-board.png` });

    // Signed out: the board and the API refuse.
    await page.goto(`${w.baseUrl}/console/campaigns`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/console\/sign-in/);
    await page.goto(`${w.baseUrl}/admin/queues`);
    expect(page.url()).toMatch(/\/console\/sign-in/);
    expect((await page.request.get(`${w.baseUrl}/admin/queues/api/queues`)).status()).toBe(401);
    expect((await page.request.get(`${w.baseUrl}/v1/campaigns/${campaignId}`)).status()).toBe(401);
    await context.close();
  }, 300_000);

  it('shows accounts and manages the suppression list, usable on a tablet', async () => {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 768, height: 1024 } });
    const page = await context.newPage();
    await signIn(page, w.tenantA.apiKey);
    const overflow = 'document.documentElement.scrollWidth - window.innerWidth';
    expect(await page.evaluate(overflow)).toBeLessThanOrEqual(0);

    await page.getByRole('link', { name: 'Accounts' }).click();
    const account = page.getByRole('region', { name: /Sandbox CL/ });
    await account.getByText(/^Sending at [\d.]+\/s \(limit 25\/s\)\.$/).waitFor();
    expect(await account.getByText('none yet').isVisible()).toBe(true); // no webhook event yet
    expect(await account.getByText('closed (normal)').isVisible()).toBe(true);
    expect(await account.getByRole('cell', { name: 'saldo_pendiente' }).isVisible()).toBe(true);
    await account.getByRole('button', { name: 'Sync templates of Sandbox CL' }).click();
    await account.getByRole('status').filter({ hasText: /sandbox/i }).waitFor(); // the engine's sentence: sandbox has no template listing
    expect(await page.evaluate(overflow)).toBeLessThanOrEqual(0);

    await page.getByRole('link', { name: 'Suppression list' }).click();
    await page.getByText('The list is empty.').waitFor();
    await page.getByLabel('Phone', { exact: true }).fill('9 1111 2222');
    await page.getByRole('button', { name: 'Add to the list' }).click();
    await page.getByRole('cell', { name: '+56911112222', exact: true }).waitFor();
    await page.getByLabel('Search by phone (+569…)').fill('+56922');
    await page.getByText('The list is empty.').waitFor();
    await page.getByLabel('Search by phone (+569…)').fill('+56911');
    await page.getByRole('button', { name: 'Remove +56911112222' }).click();
    await page.getByRole('dialog', { name: 'Remove from the list?' }).getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('status').filter({ hasText: '+56911112222 removed.' }).waitFor();
    expect(await page.getByRole('cell', { name: '+56911112222', exact: true }).count()).toBe(0);
    expect(await page.evaluate(overflow)).toBeLessThanOrEqual(0);
    await context.close();
  }, 120_000);

  it("refuses another tenant's campaign", async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, w.tenantA.apiKey);
    const response = await page.goto(`${w.baseUrl}/console/campaigns/${otherTenantCampaign}`);
    expect(response?.status()).toBe(404);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect((await page.request.get(`${w.baseUrl}/v1/campaigns/${otherTenantCampaign}`)).status()).toBe(404);
    await context.close();
  }, 60_000);

  it('speaks Spanish to a Spanish browser, with a switch to English', async () => {
    const context = await browser.newContext({ locale: 'es-CL' });
    const page = await context.newPage();
    await page.goto(`${w.baseUrl}/console/sign-in`);
    await page.getByRole('heading', { name: 'Iniciar sesión' }).waitFor();
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await context.close();
  }, 60_000);
});

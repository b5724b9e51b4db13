/**
 * Debian's Chromium driven by playwright-core, as the console's browser tests need it. Without
 * /usr/bin/chromium (CHROMIUM_PATH overrides) the tests skip and say why. Each launch gets a
 * fresh profile: playwright's launch() creates a new temporary --user-data-dir every time.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);
export const SKIP_REASON = `Console browser tests skipped: no Chromium at ${CHROMIUM_PATH}. Install Debian's package (apt-get install -y chromium), as .ci/run does, or set CHROMIUM_PATH.`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

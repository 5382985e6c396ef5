/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). Without Chromium the
 * browser suites are skipped, and this says so loudly.
 */
import { execFileSync } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

function findChromium(): string {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // not this one
    }
  }
  return '';
}

/** The browser's path, or '' when none is installed. */
export const CHROMIUM = findChromium();
if (CHROMIUM === '') console.warn('\n*** Chromium is not installed: the viewer\'s browser tests are SKIPPED. Install it with: apt-get install -y chromium ***\n');

/** A headless Chromium with nothing reaching out to the network on its own. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

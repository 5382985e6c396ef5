// sessionlog serve: who may ask it anything (token, Host, loopback, read-only), and, in Debian's
// Chromium, what a user sees: hostile transcript text inert, tool calls with their results, live
// appends from another process, a 100 MB session, 10,000 sessions paged.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type FileSessionStore } from '../../src/index.js';
import { startViewer, type Viewer } from '../../src/serve/server.js';
import { CHROMIUM, launchBrowser } from '../helpers/browser.js';
import { runCli, startCli } from '../cli/run.js';
import { waitFor } from '../helpers/wait.js';

/** A raw GET (fetch cannot set Host), answering status, headers and body. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const HOSTILE = [
  '<script>window.pwned = "script"</script>',
  '<img src=x onerror="window.pwned = \'onerror\'">',
  '[click me](javascript:window.pwned=\'link\')',
  '<a href="javascript:window.pwned=1">raw link</a>',
  '![pixel](http://198.51.100.7/track.png)',
  '<iframe src="https://example.com"></iframe> <style>body{display:none}</style>',
].join('\n\n');

describe('sessionlog serve', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessionlog-viewer-'));
  let store: FileSessionStore;
  let viewer: Viewer;
  let base: string;
  let cookie: string;

  beforeAll(async () => {
    store = await openStore({ dir, watch: true });
    await store.create({ id: 'hostile', title: '<b onmouseover="window.pwned=1">Hostile</b> title' });
    await store.append('hostile', [{ role: 'user', content: HOSTILE }, { role: 'assistant', content: [{ type: 'text', text: 'Fine.\n\n```js\nconst x = "<script>";\n```' }] }]);
    await store.create({ id: 'tools', title: 'Tool calls', model: 'claude-sonnet-4-5' });
    await store.append('tools', [
      { role: 'user', content: 'Read package.json' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'I should read it.' }, { type: 'text', text: 'Reading **now**.' }], toolCalls: [{ id: 'call_1', name: 'Read', arguments: { path: 'package.json' } }], usage: { input: 1200, output: 80 } },
      { role: 'tool', toolCallId: 'call_1', content: '{ "type": "module" }' },
    ]);
    await store.flush();
    viewer = await startViewer(store);
    base = new URL(viewer.url).origin;
    const login = await get(viewer.url);
    cookie = String(login.headers['set-cookie']?.[0]).split(';')[0] as string;
  });
  afterAll(async () => {
    await viewer.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses requests without the token, with a wrong one, from a rebinding Host, and any write', async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect((await get(`${base}/`)).status).toBe(401);
    expect((await get(`${base}/api/sessions`)).status).toBe(401);
    expect((await get(`${base}/?token=wrong`)).status).toBe(401);
    expect((await get(`${base}/api/sessions`, { Cookie: 'sessionlog_token=wrong' })).status).toBe(401);
    const login = await get(viewer.url);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    expect(login.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
    const ok = await get(`${base}/api/sessions`, { Cookie: cookie });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-security-policy']).toContain("script-src 'self'");
    expect(ok.headers['content-security-policy']).not.toContain('unsafe-inline');
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends its own Host.
    expect((await get(`${base}/api/sessions`, { Cookie: cookie, Host: `evil.example:${viewer.port}` })).status).toBe(421);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) expect((await get(`${base}/api/sessions`, { Cookie: cookie }, method)).status).toBe(405);
  });

  it('is not reachable on this machine\'s other addresses', async () => {
    const address = Object.values(os.networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
    if (address === undefined) return;
    await expect(get(`http://${address}:${viewer.port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('the CLI prints the link, warns when told to listen beyond loopback, and stops on Ctrl-C', async () => {
    const cli = startCli(['serve'], { dir });
    const line = await waitFor('the link', () => /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(cli.stdout())?.[0]);
    expect((await get(line)).status).toBe(303);
    cli.child.kill('SIGINT');
    expect((await cli.done).code).toBe(0);
    const open = startCli(['serve', '--host', '0.0.0.0'], { dir });
    await waitFor('the warning', () => open.stderr().includes('anyone who can reach this machine'));
    open.child.kill('SIGINT');
    await open.done;
  });

  it('export --format html: one file, the same rendering, no script, a policy that forbids any', async () => {
    const out = path.join(dir, 'hostile.html');
    const result = await runCli(['export', 'hostile', '--format', 'html', '-o', out], { dir });
    expect(result.code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'`);
    expect(html).not.toMatch(/<script|<iframe|<img[^>]*onerror|href="javascript:/i);
    expect(html).toContain('&lt;script&gt;window.pwned = &quot;script&quot;&lt;/script&gt;');
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
  });

  describe.skipIf(CHROMIUM === '')('in Chromium', () => {
    let browser: Browser;
    let page: Page;
    beforeAll(async () => {
      browser = await launchBrowser();
      page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (message) => violations.push(message.text()));
      await page.goto(viewer.url);
    });
    afterAll(async () => {
      await browser.close();
    });

    it('lists the sessions and opens one: tool call, its result, thinking, usage', async () => {
      await page.waitForSelector('li.session');
      expect(await page.locator('li.session').count()).toBe(2);
      expect(page.url()).not.toContain('token=');
      await page.click('text=Tool calls');
      await page.waitForSelector('article.entry.tool');
      expect(await page.locator('details.tool-call summary').innerText()).toContain('Read');
      expect(await page.locator('article.tool summary').innerText()).toContain('Read');
      expect(await page.locator('details.thinking').count()).toBe(1);
      expect(await page.locator('details.thinking').getAttribute('open')).toBeNull();
      expect(await page.locator('article.assistant .usage').innerText()).toContain('1,200 in');
      expect(await page.locator('article.assistant strong').innerText()).toBe('now');
    });

    it('renders hostile transcript text inert', async () => {
      await page.goto(`${base}/#/s/hostile`);
      await page.waitForSelector('article.entry.user');
      expect(await page.evaluate(() => (window as unknown as { pwned?: unknown }).pwned)).toBeUndefined();
      expect(await page.locator('#entries script, #entries iframe, #entries style, #entries [onerror], #entries [onmouseover]').count()).toBe(0);
      const hrefs = await page.locator('#entries a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
      expect(hrefs.filter((href) => /^\s*javascript:/i.test(href))).toEqual([]);
      // The text is there, as text.
      expect(await page.locator('article.user').innerText()).toContain('<script>window.pwned = "script"</script>');
      expect(await page.locator('h1').innerText()).toBe('<b onmouseover="window.pwned=1">Hostile</b> title');
      await page.hover('h1');
      await page.click('text=click me').catch(() => undefined);
      expect(await page.evaluate(() => (window as unknown as { pwned?: unknown }).pwned)).toBeUndefined();
    });

    it('shows an entry appended by another process without a reload', async () => {
      await page.goto(`${base}/#/s/tools`);
      await page.waitForSelector('article.entry.tool');
      const other = await openStore({ dir });
      await other.append('tools', { role: 'assistant', content: 'Appended from elsewhere.' });
      await other.close();
      await page.waitForSelector('text=Appended from elsewhere.', { timeout: 10_000 });
    });

    it('the exported file, opened from disk, runs nothing from the transcript', async () => {
      const out = path.join(dir, 'exported.html');
      await runCli(['export', 'hostile', '--format', 'html', '-o', out], { dir });
      const file = await browser.newPage();
      await file.goto(`file://${out}`);
      expect(await file.locator('article.user').innerText()).toContain('<img src=x onerror=');
      expect(await file.evaluate(() => (window as unknown as { pwned?: unknown }).pwned)).toBeUndefined();
      await file.close();
    });

    it('searches every session from the box', async () => {
      await page.goto(`${base}/#/`);
      await page.fill('#q', 'type": "module');
      await page.press('#q', 'Enter');
      await page.waitForSelector('ol.hits li');
      expect(await page.locator('ol.hits mark').first().innerText()).toBe('type": "module');
    });
  });
});

import { readFileSync } from 'node:fs';
import { launchBrowser, openPage } from './helpers/browser.js';
const info = JSON.parse(readFileSync('/tmp/webdev/info.json', 'utf8'));
const id = process.argv[2];
const b = await launchBrowser();
const w = await openPage(b);
const p = w.page;
p.on('console', (m) => console.log('console', m.type(), m.text()));
await p.goto(`${info.url}/signin`);
await p.getByLabel('User name').fill('admin'); await p.getByLabel('Password').fill(info.admin.password);
await p.getByRole('button', { name: 'Sign in' }).click();
await p.waitForURL(`${info.url}/`);
const t0 = Date.now();
await p.goto(`${info.url}/tasks/${id}`);
for (let i = 0; i < 20; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  const txt = await p.getByTestId('output').innerText().catch(() => '(none)');
  const status = await p.locator('[role=status]').allInnerTexts();
  console.log(Date.now() - t0, txt.length, JSON.stringify(txt.slice(-40)), status);
  if (txt.includes('last-line')) break;
}
// expired session
const token = await p.evaluate(() => JSON.parse(localStorage.getItem('opsctl.session')!).token);
await fetch(`${info.url}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
await p.goto(`${info.url}/tasks?status=succeeded`);
await p.waitForURL(/signin/);
await new Promise((r) => setTimeout(r, 1000));
console.log(p.url(), await p.locator('main').innerText());
await b.close();

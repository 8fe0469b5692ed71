// Milliseconds from opening the console, signed in (this tab's session restored from its
// refresh token, as after a reload), to its first page rendered with its data: the heading
// HEADING, then the text READY that only the loaded data shows. Called by
// bench/console_dashboard.py with BASE, REFRESH_TOKEN, HEADING, READY and RUNS; prints JSON.
import { chromium } from "@playwright/test";

const { BASE, REFRESH_TOKEN, HEADING, READY } = process.env;
const RUNS = Number(process.env.RUNS ?? "7");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const times = [];
try {
  for (let i = 0; i < RUNS + 1; i++) {
    const context = await browser.newContext(); // a cold cache each time
    const page = await context.newPage();
    await page.addInitScript((token) => sessionStorage.setItem("vo.refresh_token", token), REFRESH_TOKEN);
    const started = Date.now();
    await page.goto(`${BASE}/console/`);
    try {
      await page.getByRole("heading", { level: 1, name: HEADING }).waitFor({ timeout: 30_000 });
      if (READY) await page.getByText(READY, { exact: true }).first().waitFor({ timeout: 30_000 });
    } catch (error) {
      console.error(`not rendered: ${page.url()}\n${(await page.content()).slice(0, 2000)}`);
      throw error;
    }
    const took = Date.now() - started;
    if (i > 0) times.push(took); // the first run warms the server's code paths
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ times }));

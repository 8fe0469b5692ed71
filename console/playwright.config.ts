import { defineConfig } from "@playwright/test";

// Run by tests/browser/test_console.py, which starts the real local stack and passes its URL
// in CONSOLE_BASE_URL. Debian's Chromium: Playwright cannot download its own browsers here.
export default defineConfig({
  testDir: "tests",
  testMatch: "*.spec.ts",
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 20_000 }, // the tiers run side by side on two cores under make test
  reporter: [["list"]],
  outputDir: "test-results/output",
  use: {
    baseURL: process.env.CONSOLE_BASE_URL ?? "http://127.0.0.1:8000",
    trace: "off",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});

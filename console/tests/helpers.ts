/** What the browser tests share: the API called directly (to set the scene as another user
 * would), TOTP codes computed from a secret as an authenticator app does, the UI's sign-in,
 * and axe-core's check of a page. */
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as OTPAuth from "otpauth";

export const BASE = process.env.CONSOLE_BASE_URL ?? "http://127.0.0.1:8000";
export const PASSWORD = "Browser-Test-Password-1";
const RESULTS = "test-results";

export async function call(method: string, path: string, body?: unknown, token?: string, agent?: string): Promise<any> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (agent) headers["User-Agent"] = agent;
  if (token) headers.Authorization = `Bearer ${token}`;
  const reply = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await reply.text();
  if (!reply.ok) throw new Error(`${method} ${path} -> ${reply.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The code an authenticator app shows `steps` 30-second steps from now. */
export function totp(secret: string, steps = 0): string {
  const otp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });
  return otp.generate({ timestamp: Date.now() + steps * 30_000 });
}

let counter = 0;
export function uniqueEmail(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}@example.org`;
}

export interface Person {
  email: string;
  name: string;
  token: string;
  refresh: string;
  userId: string;
  secret?: string;
}

/** The API allows 20 sign-ups an hour from one address, and the stack's demo data takes 2:
 * the whole suite signs up 16 people, so share a scene within a file where a test can
 * (a test that needs a campaign of its own makes one for a shared admin). */
export async function signUp(prefix: string, name: string): Promise<Person> {
  const email = uniqueEmail(prefix);
  const created = await call("POST", "/auth/signup", { email, password: PASSWORD, name });
  const tokens = await call("POST", "/auth/login", { email, password: PASSWORD });
  return { email, name, token: tokens.access_token, refresh: tokens.refresh_token, userId: created.user_id };
}

/** Enrolled with the previous step's code, so the current one is still unused for the UI. */
export async function enrol(person: Person): Promise<Person> {
  const { secret } = await call("POST", "/me/mfa/totp", undefined, person.token);
  for (let attempt = 0; ; attempt++) {
    const step = Math.floor(Date.now() / 30_000);
    try {
      await call("POST", "/me/mfa/totp/verify", { code: totp(secret, -1) }, person.token);
      return { ...person, secret };
    } catch (error) {
      // a step ended between computing the code and the server checking it: once more
      if (attempt > 0 || Math.floor(Date.now() / 30_000) === step) throw error;
    }
  }
}

export interface Scene {
  admin: Person;
  cid: string;
  campaign: string;
}

/** A new admin with TOTP and a campaign of their own: each test works on its own data. */
export async function adminWithCampaign(campaign = "Riverside Campaign"): Promise<Scene> {
  const admin = await enrol(await signUp("admin", "Ada Admin"));
  const made = await call("POST", "/campaigns", { name: campaign }, admin.token);
  return { admin, cid: made.campaign_id, campaign };
}

export async function joinAsVolunteer(scene: Scene, name = "Val Volunteer"): Promise<Person> {
  const person = await signUp("volunteer", name);
  const { code } = await call("POST", `/campaigns/${scene.cid}/join-codes`, {}, scene.admin.token);
  await call("POST", "/campaigns/join", { code }, person.token);
  return person;
}

/** Signs in through the console's own pages: e-mail and password, then the app's code. */
export async function signIn(page: Page, person: { email: string; secret?: string }, steps = 0): Promise<void> {
  await page.goto("/console/");
  await page.getByLabel("E-mail").fill(person.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  if (person.secret) {
    await page.getByLabel("Six-digit code from your authenticator app").fill(totp(person.secret, steps));
    await page.getByRole("button", { name: "Verify" }).click();
  }
  await expect(page.getByRole("button", { name: "Sign out", exact: true })).toBeVisible();
}

/** Opens the console as `person` already signed in: this tab's session is restored from the
 * refresh token (as after a reload), so a test needs no new TOTP code (each works once). */
export async function openAs(page: Page, person: Person, path: string): Promise<void> {
  await page.addInitScript((token) => sessionStorage.setItem("vo.refresh_token", token), person.refresh);
  await page.goto(`/console${path}`);
  await expect(page.getByRole("button", { name: "Sign out", exact: true })).toBeVisible();
}

export async function openSection(page: Page, scene: Scene, section: string): Promise<void> {
  await page.getByRole("navigation", { name: "Campaign sections" }).getByRole("link", { name: section }).click();
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
}

/** axe-core on the page as it is: no serious or critical violation. Counts are recorded per
 * page in test-results/axe.jsonl (the pytest wrapper prints them). */
export async function checkA11y(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const count = (impact: string) => results.violations.filter((v) => v.impact === impact).length;
  const record = { page: name, critical: count("critical"), serious: count("serious"), moderate: count("moderate"), minor: count("minor"), passes: results.passes.length };
  mkdirSync(RESULTS, { recursive: true });
  appendFileSync(join(RESULTS, "axe.jsonl"), JSON.stringify(record) + "\n");
  const blocking = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(blocking.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)).toEqual([]);
}

/** A screenshot for the README, when CONSOLE_SCREENSHOTS names a folder (docs/ of the repo). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const folder = process.env.CONSOLE_SCREENSHOTS;
  if (!folder) return;
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, `console-${name}.png`), fullPage: false });
}

/** The e-mails the local stack "sent" to `to`, newest last (its outbox, JSON lines). */
export function mailTo(to: string): Array<{ to: string; kind: string; code?: string }> {
  const outbox = process.env.CONSOLE_OUTBOX;
  if (!outbox) throw new Error("CONSOLE_OUTBOX is not set");
  mkdirSync(dirname(outbox), { recursive: true });
  let text = "";
  try {
    text = readFileSync(outbox, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((mail) => mail.to === to);
}

import { expect, test } from "@playwright/test";
import {
  adminWithCampaign,
  call,
  checkA11y,
  joinAsVolunteer,
  type Scene,
  mailTo,
  PASSWORD,
  signIn,
  signUp,
  totp,
} from "./helpers";

test("an admin signs in with password and TOTP, keeps the session on reload, and signs out", async ({ page }) => {
  await page.goto("/console/");
  await expect(page.getByRole("heading", { name: "Sign in to the admin console" })).toBeVisible();
  await checkA11y(page, "sign-in");
  const { admin, cid } = await scene();

  await page.getByLabel("E-mail").fill(admin.email);
  await page.getByLabel("Password").fill("a wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Two-factor sign-in" })).toBeVisible();
  await checkA11y(page, "two-factor");
  await page.getByLabel("Six-digit code from your authenticator app").fill(totp(admin.secret!));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Harbor Campaign" })).toBeVisible();
  await checkA11y(page, "campaign");

  // tokens live in memory and the refresh token in this tab's sessionStorage, never localStorage
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Harbor Campaign" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("status")).toHaveText("You signed out.");
  await page.goto(`/console/c/${cid}/actions`);
  await expect(page.getByRole("heading", { name: "Sign in to the admin console" })).toBeVisible();
});

let shared: Scene | undefined;
async function scene(): Promise<Scene> {
  shared ??= await adminWithCampaign("Harbor Campaign");
  return shared;
}

test("a volunteer does not get into admin pages", async ({ page }) => {
  const { cid, admin } = await scene();
  const volunteer = await joinAsVolunteer({ cid, admin, campaign: "" }, "Vic Volunteer");
  await signIn(page, volunteer);
  await expect(page.getByRole("heading", { name: "This console is for campaign admins" })).toBeVisible();
  await checkA11y(page, "volunteer-refused");
  for (const section of ["", "/members", "/actions", "/audit"]) {
    await page.goto(`/console/c/${cid}${section}`);
    await expect(page.getByRole("heading", { name: "This console is for campaign admins" })).toBeVisible();
    await expect(page.getByText(admin.email)).toHaveCount(0);
  }
  await expect(page.getByRole("navigation", { name: "Campaign sections" })).toHaveCount(0);
});

test("an admin without MFA is told why, enrols from the QR code's secret, saves recovery codes and signs in with one", async ({ page }) => {
  const scene = await adminWithCampaign("Lakeside Campaign");
  const promoted = await joinAsVolunteer(scene, "Pat Promoted");
  await call("PATCH", `/campaigns/${scene.cid}/members/${promoted.userId}`, { role: "admin" }, scene.admin.token);

  await signIn(page, promoted);
  await page.goto(`/console/c/${scene.cid}/members`);
  await expect(page.getByRole("heading", { name: "Admin pages are closed until you enrol two-factor sign-in" })).toBeVisible();
  await checkA11y(page, "mfa-closed");
  await page.getByRole("link", { name: "your account page" }).click();
  await page.getByRole("button", { name: "Enrol an authenticator app" }).click();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  await checkA11y(page, "account-enrolment");
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code the app shows").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
  await expect(page.getByText("Two-factor sign-in is on")).toBeVisible();

  await page.getByRole("button", { name: "Make new recovery codes" }).click();
  const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
  await expect(codes).toHaveCount(10);
  const recovery = (await codes.first().textContent())!.trim();
  await expect(page.getByRole("link", { name: "Download the codes" })).toBeVisible();

  await page.goto(`/console/c/${scene.cid}/members`);
  await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();

  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByLabel("E-mail").fill(promoted.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Use a recovery code instead" }).click();
  await page.getByLabel("Recovery code").fill(recovery);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Lakeside Campaign" })).toBeVisible();
});

test("forgot password: the e-mailed code sets a new password, and the old one stops working", async ({ page }) => {
  const person = await signUp("forgetful", "Fay Forgetful");
  await page.goto("/console/");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await checkA11y(page, "forgot-password");
  await page.getByLabel("E-mail").fill(person.email);
  await page.getByRole("button", { name: "E-mail me a reset code" }).click();
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await checkA11y(page, "reset-password");
  await expect.poll(() => mailTo(person.email).filter((m) => m.code).length).toBeGreaterThan(0);
  const code = mailTo(person.email).filter((m) => m.code).at(-1)!.code!;

  await page.getByLabel("Reset code from the e-mail").fill("000000");
  await page.getByLabel("New password", { exact: true }).fill("Another-Password-22");
  await page.getByLabel("New password again").fill("Another-Password-22");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toBeVisible();

  await page.getByLabel("Reset code from the e-mail").fill(code);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("heading", { name: "Password changed" })).toBeVisible();
  await checkA11y(page, "password-changed");
  await expect(call("POST", "/auth/login", { email: person.email, password: PASSWORD })).rejects.toThrow(/401/);
  const tokens = await call("POST", "/auth/login", { email: person.email, password: "Another-Password-22" });
  expect(tokens.access_token).toBeTruthy();
});

test("the account page lists the other sessions and ends one", async ({ page }) => {
  const scene = await adminWithCampaign();
  await signIn(page, scene.admin);
  // another device: signed in with the next step's code (the current one was just used)
  const device = "Other Device Browser/1.0";
  const other = await call("POST", "/auth/login", { email: scene.admin.email, password: PASSWORD }, undefined, device);
  const tokens = await call("POST", "/auth/mfa", { mfa_token: other.mfa_token, code: totp(scene.admin.secret!, 1) }, undefined, device);
  await page.getByRole("link", { name: scene.admin.name }).click();
  await expect(page.getByRole("heading", { name: "Where you are signed in" })).toBeVisible();
  await expect(page.getByRole("cell", { name: "This session" })).toBeVisible();
  const end = page.getByRole("button", { name: new RegExp(`^Sign out ${device}`) });
  await checkA11y(page, "account");
  await end.click();
  await expect(end).toHaveCount(0);
  await expect.poll(async () => (await fetch(`${process.env.CONSOLE_BASE_URL}/me`, { headers: { Authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
});

test("an idle console signs itself out", async ({ page }) => {
  const { admin } = await scene();
  // the timeout is the console's setting (15 minutes); served shorter here
  await page.route("**/console/config.json", (route) =>
    route.fulfill({ contentType: "application/json", body: JSON.stringify({ api_base: "", idle_timeout_seconds: 3 }) }),
  );
  await page.addInitScript((token) => sessionStorage.setItem("vo.refresh_token", token), admin.refresh);
  await page.goto("/console/");
  // the notice is only shown when a signed-in console times out
  await expect(page.getByRole("status")).toHaveText("You were signed out after 3 seconds without activity.", { timeout: 20_000 });
  expect(await page.evaluate(() => sessionStorage.getItem("vo.refresh_token"))).toBeNull();
  await expect(page.getByRole("heading", { name: "Sign in to the admin console" })).toBeVisible();
});

test("the sign-in and its second step work from the keyboard alone", async ({ page }) => {
  const { admin } = await scene();
  await page.goto("/console/");
  await expect(page.getByLabel("E-mail")).toBeFocused(); // the page starts at its first field
  await page.keyboard.press("Shift+Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("E-mail")).toBeFocused();
  await page.keyboard.type(admin.email);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Six-digit code from your authenticator app")).toBeFocused();
  await page.keyboard.type(totp(admin.secret!, 1)); // the next step's: this one may be spent
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Harbor Campaign" })).toBeVisible();
  // the campaign sections are links in the tab order
  const sections = page.getByRole("navigation", { name: "Campaign sections" }).getByRole("link");
  await expect(sections).toHaveCount(9);
  for (const link of await sections.all()) expect(await link.getAttribute("tabindex")).toBeNull();
});

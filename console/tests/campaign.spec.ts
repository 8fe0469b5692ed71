import { expect, test } from "@playwright/test";
import { adminWithCampaign, call, checkA11y, joinAsVolunteer, openAs, screenshot, type Scene } from "./helpers";

let shared: Scene | undefined;
async function scene(): Promise<Scene> {
  shared ??= await adminWithCampaign("Northside Campaign");
  return shared;
}

test.beforeEach(({ page }) => {
  page.on("dialog", (dialog) => void dialog.accept());
});

test("campaigns: opened at its root, the console lands on the first campaign; create one, switch between them, rename one", async ({ page }) => {
  const { admin, cid } = await scene();
  await openAs(page, admin, "/");
  await expect(page.getByRole("heading", { level: 1, name: "Northside Campaign: dashboard" })).toBeVisible();
  expect(new URL(page.url()).pathname).toBe(`/console/c/${cid}`);
  await expect(page.getByText("No reports yet.")).toBeVisible();
  await checkA11y(page, "dashboard-empty");

  await page.getByRole("navigation", { name: "Campaign sections" }).getByRole("link", { name: "Campaign", exact: true }).click();
  await page.getByRole("link", { name: "Start another campaign" }).click();
  await checkA11y(page, "new-campaign");
  await page.getByLabel("Campaign name").fill("Eastside Campaign");
  await page.getByRole("button", { name: "Create campaign" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Eastside Campaign: dashboard" })).toBeVisible();

  // the switcher keeps the section: here, the campaign page
  await page.getByRole("navigation", { name: "Campaign sections" }).getByRole("link", { name: "Campaign", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Eastside Campaign", exact: true })).toBeVisible();
  const switcher = page.getByLabel("Switch campaign");
  await switcher.selectOption({ label: "Northside Campaign" });
  await expect(page.getByRole("heading", { level: 1, name: "Northside Campaign", exact: true })).toBeVisible();
  await switcher.selectOption({ label: "Eastside Campaign" });
  await expect(page.getByRole("heading", { level: 1, name: "Eastside Campaign", exact: true })).toBeVisible();

  await page.getByLabel("Campaign name").fill("Eastside Campaign 2026");
  await page.getByRole("button", { name: "Rename" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Eastside Campaign 2026" })).toBeVisible();
  await expect(switcher.getByRole("option", { name: "Eastside Campaign 2026" })).toHaveCount(1);
  await screenshot(page, "campaign");

  await page.getByLabel("Campaign name").fill("   ");
  await page.getByRole("button", { name: "Rename" }).click();
  await expect(page.getByRole("alert")).toBeVisible(); // the API names the field at fault
});

test("actions: create with questions, edit, change status, delete and restore", async ({ page }) => {
  const { admin, cid } = await scene();
  await openAs(page, admin, `/c/${cid}/actions`);
  await expect(page.getByRole("heading", { level: 1, name: "Actions" })).toBeVisible();

  await page.getByRole("button", { name: "New action" }).click();
  const form = page.getByRole("form", { name: "New action" });
  await form.getByLabel("Title").fill("Phone bank for Measure B");
  await form.getByLabel("Type").selectOption("call");
  await form.getByLabel("Instructions for volunteers").fill("Call the people on your list.");
  await form.getByRole("button", { name: "Add a question" }).click();
  await form.getByLabel("Question 1 text").fill("Will you vote yes on Measure B?");
  await form.getByLabel("Question 1, response 1").fill("Yes");
  await form.getByLabel("Question 1, response 2").fill("No");
  await form.getByRole("button", { name: "Add a response to question 1" }).click();
  await form.getByLabel("Question 1, response 3").fill("Undecided");
  await checkA11y(page, "action-editor");
  await form.getByRole("button", { name: "Create action" }).click();

  const row = page.getByRole("row", { name: /Phone bank for Measure B/ });
  await expect(row).toBeVisible();
  await expect(row.getByRole("cell").nth(3)).toHaveText("1");
  const saved = (await call("GET", `/campaigns/${cid}/actions`, undefined, admin.token)).items.find((a: any) => a.title === "Phone bank for Measure B");
  expect(saved.questions[0].responses.map((r: any) => r.text)).toEqual(["Yes", "No", "Undecided"]);

  await page.getByRole("button", { name: "Edit Phone bank for Measure B" }).click();
  const edit = page.getByRole("form", { name: "Edit Phone bank for Measure B" });
  await edit.getByLabel("Title").fill("Phone bank: Measure B");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("row", { name: /Phone bank: Measure B/ })).toBeVisible();

  await page.getByLabel("Status of Phone bank: Measure B").selectOption("live");
  await expect.poll(async () => (await call("GET", `/campaigns/${cid}/actions/${saved.action_id}`, undefined, admin.token)).status).toBe("live");
  await checkA11y(page, "actions");
  await screenshot(page, "actions");

  await page.getByRole("button", { name: "Delete Phone bank: Measure B" }).click();
  await expect(page.getByRole("row", { name: /Phone bank: Measure B/ })).toHaveCount(0);
  await page.getByLabel("Show deleted actions").check();
  const deleted = page.getByRole("row", { name: /Phone bank: Measure B/ });
  await expect(deleted).toContainText("deleted");
  await deleted.getByRole("button", { name: "Restore Phone bank: Measure B" }).click();
  await expect(page.getByRole("row", { name: /Phone bank: Measure B/ })).not.toContainText("deleted");
  await page.getByLabel("Show deleted actions").uncheck();
  await expect(page.getByRole("row", { name: /Phone bank: Measure B/ })).toBeVisible();
  const restored = await call("GET", `/campaigns/${cid}/actions/${saved.action_id}`, undefined, admin.token);
  expect(restored.deleted_at ?? null).toBeNull();
  expect(restored.status).toBe("live");
});

test("members: counts but never contacts, roles, remove and readmit; join codes: create, copy, limit, revoke", async ({ page, context }) => {
  const s = await scene();
  const volunteer = await joinAsVolunteer(s, "Mo Member");
  await call("PUT", "/me/contacts", { contacts: [{ name: "Secret Friend", phones: ["202-555-0199"] }] }, volunteer.token);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await openAs(page, s.admin, `/c/${s.cid}/members`);

  const row = page.getByRole("row", { name: /Mo Member/ });
  await expect(row).toContainText(volunteer.email);
  await expect(row.getByRole("cell").nth(3)).toHaveText("1"); // one synced contact, counted
  await expect(page.getByText("Secret Friend")).toHaveCount(0);
  await checkA11y(page, "members");

  await page.getByLabel("Role of Mo Member").selectOption("admin");
  await expect.poll(async () => (await call("GET", `/campaigns/${s.cid}/members`, undefined, s.admin.token)).items.find((m: any) => m.user_id === volunteer.userId).role).toBe("admin");
  await page.getByLabel("Role of Mo Member").selectOption("volunteer");
  await expect.poll(async () => (await call("GET", `/campaigns/${s.cid}/members`, undefined, s.admin.token)).items.find((m: any) => m.user_id === volunteer.userId).role).toBe("volunteer");

  // join codes
  await page.getByLabel("Most uses (optional)").fill("25");
  await page.getByLabel("Valid for days (optional)").fill("7");
  await page.getByRole("button", { name: "Create a join code" }).click();
  const limited = page.getByRole("row", { name: /of 25/ });
  await expect(limited).toContainText("active");
  const code = (await limited.getByRole("cell").first().textContent())!.trim();
  await limited.getByRole("button", { name: `Copy ${code}` }).click();
  await expect(page.getByRole("status")).toHaveText(`Copied ${code} to the clipboard.`);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);

  // removed: the code no longer lets them in, until readmitted
  await row.getByRole("button", { name: "Remove Mo Member" }).click();
  await expect(page.getByRole("row", { name: /Mo Member/ })).toHaveCount(0);
  await expect(call("POST", "/campaigns/join", { code }, volunteer.token)).rejects.toThrow(/403.*removed_from_campaign/);
  await page.getByRole("button", { name: "Readmit Mo Member" }).click();
  await expect(page.getByRole("button", { name: "Readmit Mo Member" })).toHaveCount(0);
  await call("POST", "/campaigns/join", { code }, volunteer.token);
  await page.reload();
  await expect(page.getByRole("row", { name: /Mo Member/ })).toBeVisible();

  await page.getByRole("button", { name: `Revoke ${code}` }).click();
  await expect(page.getByRole("row", { name: new RegExp(code) })).toContainText("revoked");
  const codes = (await call("GET", `/campaigns/${s.cid}/join-codes`, undefined, s.admin.token)).items;
  expect(codes.find((c: any) => c.code === code).revoked_at).toBeTruthy();
});

import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { adminWithCampaign, call, checkA11y, enrol, openAs, signUp } from "./helpers";

/** An operator command run against the stack, as a person at its terminal runs it. */
function operator(...args: string[]): string {
  const file = process.env.CONSOLE_OPERATOR_ENV!;
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return execFileSync(process.env.CONSOLE_PYTHON ?? ".venv/bin/python", ["-m", ...args], { cwd: "..", env, encoding: "utf8" });
}

test.beforeEach(({ page }) => {
  page.on("dialog", (dialog) => void dialog.accept());
});

test("audit and privacy: the trail filtered, staff access highlighted, a grant ended, a deletion requested and cancelled", async ({ page }) => {
  test.skip(!process.env.CONSOLE_OPERATOR_ENV, "needs the stack's operator settings (the pytest wrapper passes them)");
  const scene = await adminWithCampaign("Audit Campaign");
  await call("POST", `/campaigns/${scene.cid}/actions`, { type: "text", title: "Text bank", status: "draft" }, scene.admin.token);

  const staff = await enrol(await signUp("staff", "Stella Staff"));
  operator("tools.staff", "grant", staff.email, "--trained", new Date().toISOString().slice(0, 10), "--yes");
  operator("tools.staff", "grant-access", staff.email, "--campaign", scene.cid, "--reason", "ticket 881: sync errors", "--hours", "2", "--yes");
  await call("GET", `/campaigns/${scene.cid}/members`, undefined, staff.token); // a staff read, audited

  await openAs(page, scene.admin, `/c/${scene.cid}/audit`);
  const grant = page.getByRole("row", { name: /Stella Staff/ });
  await expect(grant).toContainText("ticket 881: sync errors");
  await expect(grant).toContainText("live");
  await expect(page.getByRole("row", { name: /Staff access: staff.access/ }).first()).toBeVisible();
  await checkA11y(page, "audit");

  await page.getByLabel("Event", { exact: true }).selectOption("action.created");
  await expect(page.getByRole("table", { name: "Audit trail" }).getByRole("row")).toHaveCount(2); // header + one
  await expect(page.getByRole("table", { name: "Audit trail" })).toContainText("Ada Admin");
  await page.getByLabel("Event", { exact: true }).selectOption("");
  await page.getByLabel("Who", { exact: true }).selectOption(staff.userId); // staff are not members
  await expect(page.getByRole("table", { name: "Audit trail" }).getByRole("row", { name: /Staff access/ }).first()).toBeVisible();
  await expect(page.getByRole("table", { name: "Audit trail" })).not.toContainText("action.created");
  await page.getByLabel("Who", { exact: true }).selectOption("");
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("From (date)").fill(tomorrow);
  await expect(page.getByText("0 of 0 entries")).toBeVisible();
  await page.getByLabel("From (date)").fill("");

  await grant.getByRole("button", { name: "End the grant of Stella Staff" }).click();
  await expect(page.getByRole("row", { name: /Stella Staff/ })).toContainText("ended");
  await expect(call("GET", `/campaigns/${scene.cid}/members`, undefined, staff.token)).rejects.toThrow(/404/);

  const confirmName = page.getByLabel("Type the campaign's name (Audit Campaign) to confirm");
  await confirmName.fill("Audit Campaig");
  await expect(page.getByRole("button", { name: "Delete this campaign" })).toBeDisabled();
  await confirmName.fill("Audit Campaign");
  await page.getByRole("button", { name: "Delete this campaign" }).click();
  await expect(page.getByRole("status").filter({ hasText: "will be erased" })).toContainText(/in 6 days, 23 hours and 5\d minutes|in 7 days, 0 hours and 0 minutes/);
  await checkA11y(page, "audit-deletion-scheduled");
  await page.getByRole("button", { name: "Cancel the deletion" }).click();
  await expect(page.getByText("A deletion was requested and cancelled.")).toBeVisible();
  expect((await call("GET", `/campaigns/${scene.cid}/deletion`, undefined, scene.admin.token)).state).toBe("cancelled");
});

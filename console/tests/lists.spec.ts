import { expect, test } from "@playwright/test";
import { adminWithCampaign, call, checkA11y, joinAsVolunteer, openAs, screenshot, type Scene } from "./helpers";

let shared: Scene | undefined;
async function scene(): Promise<Scene> {
  shared ??= await adminWithCampaign("Westside Campaign");
  return shared;
}

test.beforeEach(({ page }) => {
  page.on("dialog", (dialog) => void dialog.accept());
});

test("voter lists: a CSV goes up through the presigned upload to ready, shows its row problems, is assigned and deleted", async ({ page }) => {
  const s = await scene();
  const volunteer = await joinAsVolunteer(s, "Lee Lister");
  const action = await call("POST", `/campaigns/${s.cid}/actions`, { type: "canvass", title: "Doors in Ward 5", status: "live" }, s.admin.token);
  await openAs(page, s.admin, `/c/${s.cid}/lists`);
  await expect(page.getByRole("heading", { level: 1, name: "Voter lists" })).toBeVisible();
  await checkA11y(page, "lists-empty");

  const csv = [
    "external_id,first_name,last_name,phone,email",
    "1001,Pat,Voter,202-555-0101,pat@example.org",
    "1002,Sam,Voter,202-555-0102,",
    ",No,Id,202-555-0103,",
    "1004,Kim,Voter,not a phone,kim@example.org",
  ].join("\n");
  await page.getByLabel("List name").fill("Ward 5 walk list");
  await page.getByLabel("CRM the ids come from").selectOption("van");
  await page.getByLabel("VAN database of the ids").selectOption("1");
  await page.getByLabel("CSV file").setInputFiles({ name: "ward5.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Upload" }).click();

  await expect(page.getByRole("status")).toHaveText("The list “Ward 5 walk list” is ready.", { timeout: 60_000 });
  await expect(page.getByText("ready: 3 rows imported, 1 rejected")).toBeVisible();
  const row = page.getByRole("row", { name: /Ward 5 walk list/ }).first();
  await expect(row).toContainText("ready");
  await row.getByText("Row problems (1 rejected)").click();
  await expect(page.getByRole("table", { name: "Row problems of Ward 5 walk list" })).toContainText("external_id");
  await expect(page.getByRole("table", { name: "Row problems of Ward 5 walk list" })).toContainText("phone");
  await checkA11y(page, "lists");

  await page.getByLabel("Action", { exact: true }).selectOption({ label: "Doors in Ward 5" });
  await page.getByLabel("Volunteer", { exact: true }).selectOption({ label: "Lee Lister (volunteer)" });
  await page.getByLabel("Rows", { exact: true }).fill("2");
  await page.getByRole("button", { name: "Assign" }).click();
  await expect(page.getByRole("status").filter({ hasText: "assigned" })).toHaveText("2 rows assigned to Lee Lister.");
  const mine = await call("GET", `/campaigns/${s.cid}/me/assignments`, undefined, volunteer.token);
  expect(mine.items.filter((a: any) => a.action_id === action.action_id)).toHaveLength(2);
  await screenshot(page, "lists");

  await page.getByRole("button", { name: "Delete the list Ward 5 walk list" }).click();
  await expect.poll(async () => {
    const lists = (await call("GET", `/campaigns/${s.cid}/lists`, undefined, s.admin.token)).items;
    return lists.filter((l: any) => l.name === "Ward 5 walk list" && l.state !== "deleting").length;
  }).toBe(0);
});

test("voter lists: a file that is not a CSV is refused before anything is sent", async ({ page }) => {
  const s = await scene();
  await openAs(page, s.admin, `/c/${s.cid}/lists`);
  await page.getByLabel("List name").fill("Wrong file");
  await page.getByLabel("CSV file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await page.getByRole("button", { name: "Upload" }).click();
  await expect(page.getByRole("alert")).toHaveText("The file must be a CSV file (.csv).");
  const lists = (await call("GET", `/campaigns/${s.cid}/lists`, undefined, s.admin.token)).items;
  expect(lists.filter((l: any) => l.name === "Wrong file")).toHaveLength(0);
});

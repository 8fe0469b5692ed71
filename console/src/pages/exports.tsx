// Exports (POST/GET /campaigns/{cid}/exports). Like the dashboard, it waits outside src/ until
// this branch's OpenAPI document has the routes (it type-checks against the document of the
// branch that adds them); then move it to src/pages/ and show it on the Reports page.
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api/client";
import { Alert, Field, Notice, useAction } from "../ui";

type Export = Schemas["Export"];

export function Exports(props: { cid: string }) {
  const { cid } = props;
  const [current, setCurrent] = useState<Export | null>(null);
  const { busy, error, run } = useAction();
  return (
    <form
      aria-labelledby="exports-title"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const since = String(form.get("since") ?? "");
        void run(async () => {
          const started = await must(
            api.POST("/campaigns/{cid}/exports", {
              params: { path: { cid } },
              body: {
                kind: String(form.get("kind")) as Schemas["ExportIn"]["kind"],
                since: since ? new Date(`${since}T00:00:00Z`).toISOString() : null,
              },
            }),
          );
          for (;;) {
            const state: Export = await must(
              api.GET("/campaigns/{cid}/exports/{eid}", { params: { path: { cid, eid: started.export_id } } }),
            );
            setCurrent(state);
            if (state.state !== "running") break;
            await new Promise((r) => setTimeout(r, 1000));
          }
        });
      }}
    >
      <h2 id="exports-title">Export to a spreadsheet</h2>
      <div class="inline">
        <Field label="What">
          <select name="kind">
            <option value="reports">reports</option>
            <option value="members">members</option>
            <option value="audit">audit trail</option>
          </select>
        </Field>
        <Field label="Since (optional)">
          <input name="since" type="date" />
        </Field>
        <button type="submit" disabled={busy}>
          Export
        </button>
      </div>
      <Alert error={error} />
      {current?.state === "running" ? <p aria-live="polite">Preparing the file…</p> : null}
      {current?.state === "failed" ? <Alert error={new Error(`The export failed${current.error ? `: ${current.error}` : ""}. Ask for a new one.`)} /> : null}
      {current?.state === "ready" && current.download_url ? (
        <Notice>
          {current.rows} rows ready: <a href={current.download_url}>download the CSV</a> (the link works for 15 minutes; ask again for a new link until {current.available_until ?? "the file expires"}).
        </Notice>
      ) : null}
    </form>
  );
}

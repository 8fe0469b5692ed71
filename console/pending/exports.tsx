// Exports (POST/GET /campaigns/{cid}/exports), written against API.md's shape. Like the
// dashboard, it waits outside src/ until this branch's OpenAPI document has the routes; then
// move it to src/pages/, type it from Schemas, and show it on the Reports page.
import { useState } from "preact/hooks";
import { api, must } from "../api/client";
import { Alert, Field, Notice, useAction } from "../ui";

interface Export {
  export_id: string;
  kind: "reports" | "members" | "audit";
  state: "running" | "ready" | "failed";
  rows: number;
  download_url?: string;
}

export function Exports(props: { cid: string }) {
  const { cid } = props;
  const [current, setCurrent] = useState<Export | null>(null);
  const { busy, error, run } = useAction();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the note at the top
  const client = api as any;
  return (
    <form
      aria-labelledby="exports-title"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const since = String(form.get("since") ?? "");
        void run(async () => {
          const started = (await must(
            client.POST("/campaigns/{cid}/exports", {
              params: { path: { cid } },
              body: { kind: String(form.get("kind")), ...(since ? { since: new Date(`${since}T00:00:00Z`).toISOString() } : {}) },
            }),
          )) as { export_id: string };
          for (;;) {
            const state = (await must(
              client.GET("/campaigns/{cid}/exports/{eid}", { params: { path: { cid, eid: started.export_id } } }),
            )) as Export;
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
      {current?.state === "failed" ? <Alert error={new Error("The export failed. Try again.")} /> : null}
      {current?.state === "ready" && current.download_url ? (
        <Notice>
          {current.rows} rows ready: <a href={current.download_url}>download the CSV</a> (the link works for 15 minutes).
        </Notice>
      ) : null}
    </form>
  );
}

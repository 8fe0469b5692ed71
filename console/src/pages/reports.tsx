import { useMemo, useState } from "preact/hooks";
import { api, must } from "../api/client";
import { Alert, Field, Link, Notice, Page, TableHead, useAction, useLoad, when } from "../ui";
import { PROVIDERS } from "./integrations";

interface SyncState {
  provider: string;
  state: string;
  error?: string;
  last_error?: string;
}

/** A sync error as an admin can act on it. The API's own reasons are already sentences;
 * transport failures are turned into what to do. */
export function plainError(text: string | undefined): string {
  if (!text) return "";
  const lower = text.toLowerCase();
  if (/\b401\b|\b403\b|denied|unauthori[sz]ed|credentials/.test(lower))
    return "The CRM refused the saved credentials. Reconnect it on the Integrations page, then retry.";
  if (/timed? ?out|deadline|\b504\b/.test(lower)) return "The CRM did not answer in time. Retry later.";
  if (/\b429\b|rate|too many/.test(lower)) return "The CRM asked us to slow down. Retry later.";
  if (/\b5\d\d\b|unavailable/.test(lower)) return "The CRM had an error of its own. Retry later.";
  if (/\b404\b|not found/.test(lower)) return "The CRM does not know this person (the id on the list may be wrong).";
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

export function ReportsPage(props: { cid: string }) {
  const { cid } = props;
  const data = useLoad(
    async () => {
      const [reports, actions] = await Promise.all([
        must(api.GET("/campaigns/{cid}/reports", { params: { path: { cid }, query: { limit: 200 } } })),
        must(api.GET("/campaigns/{cid}/actions", { params: { path: { cid }, query: { limit: 200 } } })),
      ]);
      return { reports: reports.items, titles: new Map(actions.items.map((a) => [a.action_id, a.title])) };
    },
    [cid],
  );
  const [filters, setFilters] = useState({ action: "", result: "", provider: "", state: "" });
  const { busy, error, run } = useAction();
  const [retried, setRetried] = useState<string | null>(null);
  const reports = data.data?.reports ?? [];
  const shown = useMemo(
    () =>
      reports.filter((r) => {
        const sync = r.sync as unknown as SyncState[];
        if (filters.action && r.action_id !== filters.action) return false;
        if (filters.result && r.result !== filters.result) return false;
        if (filters.provider || filters.state)
          return sync.some((s) => (!filters.provider || s.provider === filters.provider) && (!filters.state || s.state === filters.state));
        return true;
      }),
    [reports, filters],
  );
  const failing = [...new Set(reports.flatMap((r) => (r.sync as unknown as SyncState[]).filter((s) => s.state === "failed").map((s) => s.provider)))];
  const set = (key: keyof typeof filters) => (e: Event) => setFilters({ ...filters, [key]: (e.target as HTMLSelectElement).value });

  return (
    <Page title="Reports & sync">
      <p>
        What volunteers reported, and where each report stands with each connected CRM. To take a copy to a spreadsheet:{" "}
        <Link to={`/c/${cid}/exports`}>export the reports</Link>.
      </p>
      <form class="inline" aria-label="Filter reports" onSubmit={(e) => e.preventDefault()}>
        <Field label="Action">
          <select value={filters.action} onChange={set("action")}>
            <option value="">all</option>
            {[...(data.data?.titles ?? new Map<string, string>())].map(([id, title]) => (
              <option key={id} value={id}>
                {title}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Result">
          <select value={filters.result} onChange={set("result")}>
            <option value="">all</option>
            {["canvassed", "not_home", "refused", "wrong_number", "moved", "deceased", "other"].map((r) => (
              <option key={r} value={r}>
                {r.replace("_", " ")}
              </option>
            ))}
          </select>
        </Field>
        <Field label="CRM">
          <select value={filters.provider} onChange={set("provider")}>
            <option value="">all</option>
            {Object.entries(PROVIDERS).map(([p, name]) => (
              <option key={p} value={p}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Sync state">
          <select value={filters.state} onChange={set("state")}>
            <option value="">all</option>
            {["pending", "synced", "failed", "skipped"].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" class="secondary" onClick={() => void data.reload()}>
          Refresh
        </button>
      </form>
      <Alert error={data.error ?? error} />
      {failing.map((p) => (
        <p key={p}>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await must(api.POST("/campaigns/{cid}/integrations/{provider}/retry", { params: { path: { cid, provider: p } } }));
                setRetried(p);
                await data.reload();
              })
            }
          >
            Retry failed reports for {PROVIDERS[p as keyof typeof PROVIDERS] ?? p}
          </button>
        </p>
      ))}
      {retried ? <Notice>Failed reports for {PROVIDERS[retried as keyof typeof PROVIDERS] ?? retried} are queued again.</Notice> : null}
      <p class="muted" aria-live="polite">
        {shown.length} of {reports.length} report{reports.length === 1 ? "" : "s"}
      </p>
      <table>
        <caption class="visually-hidden">Reports</caption>
        <TableHead columns={["Filed", "Action", "Contact", "CRM id", "Result", "Sync"]} />
        <tbody>
          {shown.map((r) => (
            <tr key={r.report_id}>
              <td>{when(r.created_at)}</td>
              <td>{data.data?.titles.get(r.action_id) ?? "(deleted action)"}</td>
              <td>{r.contact.name ?? ""}</td>
              <td>{r.contact.external_id ?? "none"}</td>
              <td>{r.result.replace("_", " ")}</td>
              <td>
                {(r.sync as unknown as SyncState[]).length === 0 ? (
                  <span class="muted">no CRM connected</span>
                ) : (
                  <ul class="plain">
                    {(r.sync as unknown as SyncState[]).map((s) => (
                      <li key={s.provider}>
                        {PROVIDERS[s.provider as keyof typeof PROVIDERS] ?? s.provider}:{" "}
                        <span class={`badge state-${s.state}`}>{s.state}</span>
                        {s.error || s.last_error ? (
                          <span>
                            {" "}
                            {s.state === "pending" ? "Last attempt: " : null}
                            {plainError(s.error ?? s.last_error)}
                          </span>
                        ) : null}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

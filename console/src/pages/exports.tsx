// Exports (POST/GET /campaigns/{cid}/exports): ask for a CSV of the reports, the members or the
// audit trail, follow it while the worker writes it, download it when ready.
import { useEffect, useState } from "preact/hooks";
import { api, must, type Schemas } from "../api/client";
import { Alert, Field, Page, TableHead, useAction, useLoad, when } from "../ui";

type Export = Schemas["Export"];
type Kind = Schemas["ExportKind"];

const KINDS: Record<Kind, string> = { reports: "reports", members: "members", audit: "audit trail" };

function kindName(kind: string): string {
  return KINDS[kind as Kind] ?? kind;
}

/** The download of a ready export: a link to the file in the bucket (another origin, so a
 * plain link, never a script reading it), valid 15 minutes; an older one asks for a fresh link first. */
function Download(props: { cid: string; item: Export }) {
  const { cid, item } = props;
  const [fresh, setFresh] = useState<Export | null>(item.download_url ? item : null);
  const { busy, error, run } = useAction();
  const label = `${kindName(item.kind)} of ${when(item.created_at)}`;
  const expired = fresh?.download_url_expires_at ? Date.parse(fresh.download_url_expires_at) < Date.now() : false;
  if (fresh?.download_url && !expired) {
    return (
      <a href={fresh.download_url} download aria-label={`Download the CSV of the ${label}`}>
        Download the CSV
      </a>
    );
  }
  return (
    <>
      <button
        type="button"
        class="secondary"
        disabled={busy}
        onClick={() =>
          void run(async () => setFresh(await must(api.GET("/campaigns/{cid}/exports/{eid}", { params: { path: { cid, eid: item.export_id } } }))))
        }
      >
        Get a download link<span class="visually-hidden"> for the {label}</span>
      </button>
      <Alert error={error} />
    </>
  );
}

export function ExportsPage(props: { cid: string }) {
  const { cid } = props;
  const list = useLoad(
    async () => (await must(api.GET("/campaigns/{cid}/exports", { params: { path: { cid }, query: { limit: 20 } } }))).items,
    [cid],
  );
  /** Exports this page asked for or looked up, newer than the list it loaded. */
  const [known, setKnown] = useState<Record<string, Export>>({});
  const { busy, error, run } = useAction();
  const items = (list.data ?? []).map((e) => known[e.export_id] ?? e);
  for (const e of Object.values(known)) if (!items.some((x) => x.export_id === e.export_id)) items.unshift(e);
  const running = items.filter((e) => e.state === "running").map((e) => e.export_id);

  // while any export is being written: ask for its state every second
  const waiting = running.join(",");
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(async () => {
      const now = await Promise.all(
        waiting.split(",").map((eid) => must(api.GET("/campaigns/{cid}/exports/{eid}", { params: { path: { cid, eid } } })).catch(() => null)),
      );
      setKnown((was) => ({ ...was, ...Object.fromEntries(now.filter((e): e is Export => e !== null).map((e) => [e.export_id, e])) }));
    }, 1000);
    return () => clearTimeout(timer);
  }, [cid, waiting, known]);

  return (
    <Page title="Exports">
      <p>A CSV file of the campaign's reports, members (with their counts, never their contacts) or audit trail, to open in a spreadsheet. Each export is recorded in the audit trail; its file is kept 7 days.</p>
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
                body: { kind: String(form.get("kind")) as Kind, since: since ? new Date(`${since}T00:00:00Z`).toISOString() : null },
              }),
            );
            setKnown((was) => ({ ...was, [started.export_id]: started }));
          });
        }}
      >
        <h2 id="exports-title">Export to a spreadsheet</h2>
        <div class="inline">
          <Field label="What">
            <select name="kind">
              {(Object.keys(KINDS) as Kind[]).map((k) => (
                <option key={k} value={k}>
                  {KINDS[k]}
                </option>
              ))}
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
      </form>
      <h2>Recent exports</h2>
      <Alert error={list.error} />
      <p class="inline">
        <button type="button" class="secondary" onClick={() => void list.reload().then(() => setKnown({}))}>
          Refresh
        </button>
        <span class="muted" aria-live="polite">
          {running.length ? `Preparing ${running.length} file${running.length === 1 ? "" : "s"}…` : ""}
        </span>
      </p>
      <table>
        <caption class="visually-hidden">Recent exports</caption>
        <TableHead columns={["Asked", "What", "Since", "State", "Rows", "File"]} />
        <tbody>
          {items.map((e) => (
            <tr key={e.export_id}>
              <td>{when(e.created_at)}</td>
              <td>{kindName(e.kind)}</td>
              <td>{e.since ? when(e.since) : "all"}</td>
              <td>
                <span class={`badge state-${e.state}`}>{e.state}</span>
              </td>
              <td>{e.state === "ready" ? e.rows : ""}</td>
              <td>
                {e.state === "ready" ? <Download key={e.download_url ?? ""} cid={cid} item={e} /> : null}
                {e.state === "failed" ? <span>The export failed{e.error ? `: ${e.error}` : ""}. Ask for a new one.</span> : null}
                {e.state === "running" ? <span class="muted">being written…</span> : null}
              </td>
            </tr>
          ))}
          {items.length === 0 && list.data ? (
            <tr>
              <td colSpan={6}>No exports yet.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </Page>
  );
}

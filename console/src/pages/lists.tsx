import { useState } from "preact/hooks";
import { api, ApiError, must, type Schemas } from "../api/client";
import { Alert, Field, Notice, Page, TableHead, useAction, useLoad, when } from "../ui";

type VoterList = Schemas["VoterList"];
const DONE = new Set(["ready", "failed"]);

/** PUT the file to the presigned URL with XMLHttpRequest, which reports upload progress
 * (fetch does not). The body goes without a Content-Type, as the URL was signed. */
function upload(url: string, file: File, progress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress(e.loaded / e.total);
    };
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve()
        : reject(new ApiError(xhr.status, `The file could not be stored (${xhr.status}). Try again.`));
    xhr.onerror = () => reject(new ApiError(0, "The upload was interrupted. Check your connection and try again."));
    xhr.send(new Blob([file]));
  });
}

export function ListsPage(props: { cid: string }) {
  const { cid } = props;
  const lists = useLoad(async () => (await must(api.GET("/campaigns/{cid}/lists", { params: { path: { cid }, query: { limit: 200 } } }))).items, [cid]);
  const { busy, error, run } = useAction();
  return (
    <Page title="Voter lists">
      <p>
        Lists from your CRM: a CSV file with a header row and the columns <code>external_id</code> (the CRM's id of the
        person, required), <code>first_name</code>, <code>last_name</code>, <code>phone</code>, <code>email</code>.
        Volunteers' contacts are matched against ready lists; a list's rows are never shown to volunteers.
      </p>
      <Upload cid={cid} onChange={() => void lists.reload()} />
      <h2>Lists</h2>
      <Alert error={lists.error ?? error} />
      <table>
        <TableHead columns={["Name", "CRM", "State", "Rows", "Imported", "Rejected", "Uploaded"]} actions />
        <tbody>
          {(lists.data ?? []).map((l) => (
            <tr key={l.list_id}>
              <td>
                {l.name}
                <RowErrors cid={cid} list={l} />
              </td>
              <td>{l.provider ?? "none"}</td>
              <td>
                <span class={`badge state-${l.state}`}>{l.state.replace("_", " ")}</span>
              </td>
              <td>{l.rows_total ?? ""}</td>
              <td>{l.rows_imported}</td>
              <td>{l.rows_rejected}</td>
              <td>{when(l.created_at)}</td>
              <td>
                {l.state === "deleting" ? null : (
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    aria-label={`Delete the list ${l.name}`}
                    onClick={() => {
                      if (!confirm(`Delete the list "${l.name}"? It stops matching at once and its rows are erased.`)) return;
                      void run(async () => {
                        await must(api.DELETE("/campaigns/{cid}/lists/{lid}", { params: { path: { cid, lid: l.list_id } } }));
                        await lists.reload();
                      });
                    }}
                  >
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {lists.data && lists.data.length === 0 ? <p>No lists yet.</p> : null}
      <Assign cid={cid} lists={(lists.data ?? []).filter((l) => l.state === "ready")} />
    </Page>
  );
}

/** The first 100 row problems of a list, fetched when opened. */
function RowErrors(props: { cid: string; list: VoterList }) {
  const { cid, list } = props;
  const [errors, setErrors] = useState<Schemas["ListError"][] | null>(list.errors ?? null);
  const { error, run } = useAction();
  if (!list.rows_rejected && !(list.errors ?? []).length && list.state !== "failed") return null;
  return (
    <details
      onToggle={(e) => {
        if ((e.currentTarget as HTMLDetailsElement).open && errors === null)
          void run(async () => {
            const full = await must(api.GET("/campaigns/{cid}/lists/{lid}", { params: { path: { cid, lid: list.list_id } } }));
            setErrors(full.errors ?? []);
          });
      }}
    >
      <summary>Row problems ({list.rows_rejected} rejected)</summary>
      <Alert error={error} />
      {errors ? (
        <table>
          <caption class="visually-hidden">Row problems of {list.name}</caption>
          <TableHead columns={["Row", "Column", "Problem"]} />
          <tbody>
            {errors.map((e, i) => (
              <tr key={i}>
                <td>{e.row}</td>
                <td>{e.field}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </details>
  );
}

function Upload(props: { cid: string; onChange: () => void }) {
  const { cid } = props;
  const [sent, setSent] = useState<number | null>(null);
  const [importing, setImporting] = useState<VoterList | null>(null);
  const [provider, setProvider] = useState("");
  const { busy, error, run } = useAction();

  async function follow(lid: string): Promise<VoterList> {
    for (;;) {
      const list = await must(api.GET("/campaigns/{cid}/lists/{lid}", { params: { path: { cid, lid } } }));
      setImporting(list);
      props.onChange();
      if (DONE.has(list.state)) return list;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  const imported = importing && importing.rows_total ? importing.rows_imported + importing.rows_rejected : 0;
  return (
    <form
      aria-labelledby="upload-title"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const file = form.get("file");
        const name = String(form.get("name") ?? "").trim();
        const mode = String(form.get("van_db_mode") ?? "");
        void run(async () => {
          if (!(file instanceof File) || file.size === 0) throw new Error("Choose a CSV file to upload.");
          if (!/\.csv$/i.test(file.name)) throw new Error("The file must be a CSV file (.csv).");
          setSent(0);
          setImporting(null);
          const started = await must(
            api.POST("/campaigns/{cid}/lists/uploads", {
              params: { path: { cid } },
              body: { name, provider: provider || null, van_db_mode: provider === "van" && mode !== "" ? (Number(mode) as 0 | 1) : null },
            }),
          );
          props.onChange();
          await upload(started.upload_url, file, setSent);
          setSent(1);
          await follow(started.list_id);
        });
      }}
    >
      <h2 id="upload-title">Upload a list</h2>
      <div class="inline">
        <Field label="List name">
          <input name="name" required maxLength={200} />
        </Field>
        <Field label="CRM the ids come from">
          <select name="provider" value={provider} onChange={(e) => setProvider((e.target as HTMLSelectElement).value)}>
            <option value="">none</option>
            <option value="van">VAN</option>
            <option value="pdi">PDI</option>
            <option value="salsa">Salsa</option>
          </select>
        </Field>
        {provider === "van" ? (
          <Field label="VAN database of the ids">
            <select name="van_db_mode" defaultValue="1">
              <option value="0">MyVoters</option>
              <option value="1">MyCampaign</option>
            </select>
          </Field>
        ) : null}
        <Field label="CSV file">
          <input name="file" type="file" accept=".csv,text/csv" required />
        </Field>
        <button type="submit" disabled={busy}>
          Upload
        </button>
      </div>
      <Alert error={error} />
      {sent !== null ? (
        <div>
          <label>
            Upload <progress max={1} value={sent} /> {Math.round(sent * 100)}%
          </label>
        </div>
      ) : null}
      {importing ? (
        <div>
          <label>
            Import{" "}
            <progress max={importing.rows_total ?? 1} value={importing.state === "ready" ? (importing.rows_total ?? 1) : imported} />{" "}
            {importing.state === "ready"
              ? `ready: ${importing.rows_imported} rows imported, ${importing.rows_rejected} rejected`
              : importing.state === "failed"
                ? "failed: see the list's row problems"
                : importing.state.replace("_", " ")}
          </label>
        </div>
      ) : null}
      {importing?.state === "ready" ? <Notice>The list “{importing.name}” is ready.</Notice> : null}
    </form>
  );
}

function Assign(props: { cid: string; lists: VoterList[] }) {
  const { cid } = props;
  const data = useLoad(
    async () => {
      const [actions, members] = await Promise.all([
        must(api.GET("/campaigns/{cid}/actions", { params: { path: { cid }, query: { limit: 200 } } })),
        must(api.GET("/campaigns/{cid}/members", { params: { path: { cid }, query: { limit: 200 } } })),
      ]);
      return { actions: actions.items.filter((a) => a.status === "live"), members: members.items };
    },
    [cid],
  );
  const [assigned, setAssigned] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  if (!props.lists.length) return null;
  return (
    <form
      aria-labelledby="assign-title"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const aid = String(form.get("action"));
        const user = String(form.get("user"));
        void run(async () => {
          const result = await must(
            api.POST("/campaigns/{cid}/actions/{aid}/assignments", {
              params: { path: { cid, aid } },
              body: { user_id: user, list_id: String(form.get("list")), count: Number(form.get("count")) },
            }),
          );
          const who = data.data?.members.find((m) => m.user_id === user)?.name ?? "the volunteer";
          setAssigned(`${result.assigned} row${result.assigned === 1 ? "" : "s"} assigned to ${who}.`);
        });
      }}
    >
      <h2 id="assign-title">Assign rows to a volunteer</h2>
      <p>Hands a volunteer rows of a list not yet assigned for an action; each row goes to one volunteer at a time.</p>
      <Alert error={data.error ?? error} />
      <div class="inline">
        <Field label="Action">
          <select name="action" required>
            {(data.data?.actions ?? []).map((a) => (
              <option key={a.action_id} value={a.action_id}>
                {a.title}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Volunteer">
          <select name="user" required>
            {(data.data?.members ?? []).map((m) => (
              <option key={m.user_id} value={m.user_id}>
                {m.name} ({m.role})
              </option>
            ))}
          </select>
        </Field>
        <Field label="List">
          <select name="list" required>
            {props.lists.map((l) => (
              <option key={l.list_id} value={l.list_id}>
                {l.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Rows">
          <input name="count" type="number" min={1} max={10000} defaultValue="25" required />
        </Field>
        <button type="submit" disabled={busy}>
          Assign
        </button>
      </div>
      {assigned ? <Notice>{assigned}</Notice> : null}
    </form>
  );
}

import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api/client";
import type { Me } from "../session";
import { Alert, Field, Notice, Page, TableHead, useAction, useLoad, when } from "../ui";

type Member = Schemas["Member"];
type JoinCode = Schemas["JoinCode"];

export function MembersPage(props: { cid: string; me: Me }) {
  return (
    <Page title="Members">
      <Members cid={props.cid} me={props.me} />
      <JoinCodes cid={props.cid} />
    </Page>
  );
}

function Members(props: { cid: string; me: Me }) {
  const { cid } = props;
  const members = useLoad(async () => (await must(api.GET("/campaigns/{cid}/members", { params: { path: { cid }, query: { limit: 200 } } }))).items, [cid]);
  const [removed, setRemoved] = useState<Member[]>([]);
  const { busy, error, run } = useAction();
  const path = (m: Member) => ({ params: { path: { cid, uid: m.user_id } } });
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">People in this campaign</h2>
      <p class="muted">Counts only: volunteers' synced contacts are never shown here.</p>
      <Alert error={members.error ?? error} />
      <table>
        <TableHead columns={["Name", "E-mail", "Role", "Synced contacts", "Reports"]} actions />
        <tbody>
          {(members.data ?? []).map((m) => (
            <tr key={m.user_id}>
              <td>{m.name}</td>
              <td>{m.email}</td>
              <td>
                {m.user_id === props.me.user_id ? (
                  `${m.role} (you)`
                ) : (
                  <select
                    aria-label={`Role of ${m.name}`}
                    value={m.role}
                    disabled={busy}
                    onChange={(e) => {
                      const role = (e.target as HTMLSelectElement).value as "admin" | "volunteer";
                      void run(async () => {
                        await must(api.PATCH("/campaigns/{cid}/members/{uid}", { ...path(m), body: { role } }));
                        await members.reload();
                      });
                    }}
                  >
                    <option value="volunteer">volunteer</option>
                    <option value="admin">admin</option>
                  </select>
                )}
              </td>
              <td>{m.synced_contacts_count}</td>
              <td>{m.reports_count}</td>
              <td>
                {m.user_id === props.me.user_id ? null : (
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    aria-label={`Remove ${m.name}`}
                    onClick={() => {
                      if (!confirm(`Remove ${m.name} from the campaign? They cannot join again until readmitted.`)) return;
                      void run(async () => {
                        await must(api.DELETE("/campaigns/{cid}/members/{uid}", path(m)));
                        setRemoved([...removed.filter((r) => r.user_id !== m.user_id), m]);
                        await members.reload();
                      });
                    }}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {removed.length ? (
        <>
          <h3>Removed just now</h3>
          <p class="muted">A removed member cannot join again with any code until readmitted.</p>
          <ul>
            {removed.map((m) => (
              <li key={m.user_id}>
                {m.name} ({m.email}){" "}
                <button
                  type="button"
                  class="secondary"
                  disabled={busy}
                  aria-label={`Readmit ${m.name}`}
                  onClick={() =>
                    void run(async () => {
                      await must(api.POST("/campaigns/{cid}/members/{uid}/readmit", path(m)));
                      setRemoved(removed.filter((r) => r.user_id !== m.user_id));
                    })
                  }
                >
                  Readmit
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function JoinCodes(props: { cid: string }) {
  const { cid } = props;
  const codes = useLoad(async () => (await must(api.GET("/campaigns/{cid}/join-codes", { params: { path: { cid }, query: { limit: 200 } } }))).items, [cid]);
  const { busy, error, run } = useAction();
  const [copied, setCopied] = useState<string | null>(null);
  const live = (c: JoinCode) => !c.revoked_at && new Date(c.expires_at) > new Date() && (c.max_uses == null || c.uses < c.max_uses);
  return (
    <section aria-labelledby="codes-title">
      <h2 id="codes-title">Join codes</h2>
      <p>Volunteers join the campaign by typing a code into the app.</p>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const uses = String(form.get("max_uses") ?? "").trim();
          const days = String(form.get("expires_in_days") ?? "").trim();
          void run(async () => {
            await must(
              api.POST("/campaigns/{cid}/join-codes", {
                params: { path: { cid } },
                body: { max_uses: uses ? Number(uses) : null, expires_in_days: days ? Number(days) : null },
              }),
            );
            await codes.reload();
          });
        }}
      >
        <Field label="Most uses (optional)">
          <input name="max_uses" type="number" min={1} max={100000} />
        </Field>
        <Field label="Valid for days (optional)">
          <input name="expires_in_days" type="number" min={1} max={90} />
        </Field>
        <button type="submit" disabled={busy}>
          Create a join code
        </button>
      </form>
      <Alert error={codes.error ?? error} />
      {copied ? <Notice>Copied {copied} to the clipboard.</Notice> : null}
      <table>
        <TableHead columns={["Code", "Uses", "Expires", "State"]} actions />
        <tbody>
          {(codes.data ?? []).map((c) => (
            <tr key={c.code}>
              <td>
                <code>{c.code}</code>
              </td>
              <td>
                {c.uses}
                {c.max_uses != null ? ` of ${c.max_uses}` : ""}
              </td>
              <td>{when(c.expires_at)}</td>
              <td>{c.revoked_at ? `revoked ${when(c.revoked_at)}` : live(c) ? "active" : "used up or expired"}</td>
              <td class="inline">
                <button
                  type="button"
                  class="secondary"
                  aria-label={`Copy ${c.code}`}
                  onClick={() =>
                    void run(async () => {
                      await navigator.clipboard.writeText(c.code);
                      setCopied(c.code);
                    })
                  }
                >
                  Copy
                </button>
                {c.revoked_at ? null : (
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    aria-label={`Revoke ${c.code}`}
                    onClick={() =>
                      void run(async () => {
                        await must(api.DELETE("/campaigns/{cid}/join-codes/{code}", { params: { path: { cid, code: c.code } } }));
                        await codes.reload();
                      })
                    }
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

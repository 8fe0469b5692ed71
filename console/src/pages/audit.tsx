import { useEffect, useMemo, useState } from "preact/hooks";
import { api, must, type Schemas } from "../api/client";
import { Alert, Field, Notice, Page, TableHead, useAction, useLoad, when } from "../ui";

type Entry = Schemas["AuditEntry"];

export function AuditPage(props: { cid: string; campaignName: string }) {
  return (
    <Page title="Audit & privacy">
      <StaffGrants cid={props.cid} />
      <Trail cid={props.cid} />
      <Deletion cid={props.cid} />
    </Page>
  );
}

function isStaff(e: Entry): boolean {
  return e.event.startsWith("staff.");
}

function Trail(props: { cid: string }) {
  const { cid } = props;
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [event, setEvent] = useState("");
  const [actor, setActor] = useState("");
  const data = useLoad(
    async () => {
      const [audit, members] = await Promise.all([
        must(
          api.GET("/campaigns/{cid}/audit", {
            params: { path: { cid }, query: { limit: 200, since: since ? new Date(`${since}T00:00:00Z`).toISOString() : undefined } },
          }),
        ),
        must(api.GET("/campaigns/{cid}/members", { params: { path: { cid }, query: { limit: 200 } } })),
      ]);
      return { items: audit.items, names: new Map(members.items.map((m) => [m.user_id, m.name])) };
    },
    [cid, since],
  );
  const items = data.data?.items ?? [];
  const names = data.data?.names ?? new Map<string, string>();
  const who = (id: string | null | undefined) => (id ? (names.get(id) ?? id) : "the system");
  const events = useMemo(() => [...new Set(items.map((e) => e.event))].sort(), [items]);
  const actors = useMemo(() => [...new Set(items.map((e) => e.actor_id ?? ""))], [items]);
  const end = until ? new Date(`${until}T23:59:59.999Z`) : null;
  const shown = items.filter(
    (e) => (!event || e.event === event) && (!actor || (e.actor_id ?? "") === actor) && (!end || new Date(e.at) <= end),
  );
  return (
    <section aria-labelledby="trail-title">
      <h2 id="trail-title">Audit trail</h2>
      <p>Every change to this campaign's data, newest first. Staff access is highlighted.</p>
      <form class="inline" aria-label="Filter the audit trail" onSubmit={(e) => e.preventDefault()}>
        <Field label="Event">
          <select value={event} onChange={(e) => setEvent((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {events.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Who">
          <select value={actor} onChange={(e) => setActor((e.target as HTMLSelectElement).value)}>
            <option value="">anyone</option>
            {actors.map((x) => (
              <option key={x} value={x}>
                {who(x || null)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="From (date)">
          <input type="date" value={since} onChange={(e) => setSince((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label="Until (date)">
          <input type="date" value={until} onChange={(e) => setUntil((e.target as HTMLInputElement).value)} />
        </Field>
      </form>
      <Alert error={data.error} />
      <p class="muted" aria-live="polite">
        {shown.length} of {items.length} entries
      </p>
      <table>
        <caption class="visually-hidden">Audit trail</caption>
        <TableHead columns={["When", "Event", "Who", "What", "Fields changed"]} />
        <tbody>
          {shown.map((e) => (
            <tr key={e.event_id} class={isStaff(e) ? "staff" : ""}>
              <td>{when(e.at)}</td>
              <td>
                {isStaff(e) ? <strong>Staff access: </strong> : null}
                {e.event}
              </td>
              <td>{who(e.actor_id)}</td>
              <td>{e.target}</td>
              <td>{(e.fields as string[]).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function StaffGrants(props: { cid: string }) {
  const { cid } = props;
  const grants = useLoad(async () => (await must(api.GET("/campaigns/{cid}/staff-access", { params: { path: { cid }, query: { limit: 200 } } }))).items, [cid]);
  const { busy, error, run } = useAction();
  return (
    <section aria-labelledby="grants-title">
      <h2 id="grants-title">Platform staff access</h2>
      <p>
        Platform staff read a campaign only under a time-boxed grant, issued with a reason. You see every grant and how
        often it was used, and you may end one at once.
      </p>
      <Alert error={grants.error ?? error} />
      {grants.data && grants.data.length === 0 ? <p>No staff member has ever had access to this campaign.</p> : null}
      {grants.data && grants.data.length ? (
        <table>
          <caption class="visually-hidden">Staff access grants</caption>
          <TableHead columns={["Staff member", "Reason", "Granted", "Until", "Reads", "State"]} actions />
          <tbody>
            {grants.data.map((g) => (
              <tr key={g.grant_id} class={g.live ? "staff" : ""}>
                <td>{g.staff_name}</td>
                <td>{g.reason}</td>
                <td>{when(g.granted_at)}</td>
                <td>{when(g.expires_at)}</td>
                <td>{g.accesses}</td>
                <td>{g.live ? "live" : g.revoked_at ? `ended ${when(g.revoked_at)}` : "expired"}</td>
                <td>
                  {g.live ? (
                    <button
                      type="button"
                      class="danger"
                      disabled={busy}
                      aria-label={`End the grant of ${g.staff_name}`}
                      onClick={() =>
                        void run(async () => {
                          await must(api.DELETE("/campaigns/{cid}/staff-access/{grant_id}", { params: { path: { cid, grant_id: g.grant_id } } }));
                          await grants.reload();
                        })
                      }
                    >
                      End grant
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function countdown(to: string, now: number): string {
  let left = Math.max(0, Math.floor((new Date(to).getTime() - now) / 1000));
  const days = Math.floor(left / 86400);
  left -= days * 86400;
  const hours = Math.floor(left / 3600);
  left -= hours * 3600;
  const minutes = Math.floor(left / 60);
  return `${days} day${days === 1 ? "" : "s"}, ${hours} hour${hours === 1 ? "" : "s"} and ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

function Deletion(props: { cid: string }) {
  const { cid } = props;
  const campaign = useLoad(() => must(api.GET("/campaigns/{cid}", { params: { path: { cid } } })), [cid]);
  const state = useLoad(() => must(api.GET("/campaigns/{cid}/deletion", { params: { path: { cid } } })), [cid]);
  const { busy, error, run } = useAction();
  const [typed, setTyped] = useState("");
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);
  const name = campaign.data?.name ?? "";
  const scheduled = state.data?.state === "scheduled" && state.data.scheduled_for;
  return (
    <section aria-labelledby="deletion-title">
      <h2 id="deletion-title">Delete this campaign</h2>
      <Alert error={state.error ?? campaign.error ?? error} />
      {scheduled ? (
        <>
          <p role="status" class="notice">
            This campaign and all its data will be erased on {when(state.data!.scheduled_for)}: in {countdown(state.data!.scheduled_for!, now)}.
            Every admin was e-mailed.
          </p>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                await must(api.DELETE("/campaigns/{cid}/deletion", { params: { path: { cid } } }));
                await state.reload();
              })
            }
          >
            Cancel the deletion
          </button>
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await must(api.POST("/campaigns/{cid}/deletion", { params: { path: { cid } }, body: { confirm_name: typed } }));
              setTyped("");
              await state.reload();
            });
          }}
        >
          {state.data?.state === "cancelled" ? <Notice>A deletion was requested and cancelled.</Notice> : null}
          <p>
            Everything is erased after a grace period: actions, lists, reports, members, join codes, integrations and
            their credentials. Until then any admin can cancel.
          </p>
          <Field label={`Type the campaign's name (${name}) to confirm`}>
            <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} autoComplete="off" />
          </Field>
          <button type="submit" class="danger" disabled={busy || typed !== name || !name}>
            Delete this campaign
          </button>
        </form>
      )}
    </section>
  );
}

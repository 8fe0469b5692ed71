import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api/client";
import { Alert, Field, Notice, Page, useAction, useLoad } from "../ui";

export const PROVIDERS = { van: "NGP VAN", pdi: "PDI", salsa: "Salsa" } as const;
type Provider = keyof typeof PROVIDERS;
const RESULTS = ["canvassed", "not_home", "refused", "wrong_number", "moved", "deceased", "other"] as const;

/** The credentials each CRM takes; secrets are write-only (never shown once saved). */
const CREDENTIALS: Record<Provider, { name: string; label: string; secret: boolean }[]> = {
  van: [
    { name: "application_name", label: "Application name", secret: false },
    { name: "api_key", label: "API key", secret: true },
  ],
  pdi: [
    { name: "username", label: "User name", secret: false },
    { name: "password", label: "Password", secret: true },
    { name: "api_token", label: "API token", secret: true },
  ],
  salsa: [{ name: "api_token", label: "API token", secret: true }],
};

/** The document gives the credentials' body as a bare `object` (its fields depend on the CRM):
 * sent as it is, the path still checked. */
function untyped(body: object): never {
  return body as never;
}

interface Option {
  id: string | number;
  name: string;
  channel?: string | null;
  responses?: Option[];
}
type Catalog = Record<string, Option[] | undefined>;

export function IntegrationsPage(props: { cid: string }) {
  const { cid } = props;
  const integrations = useLoad(async () => (await must(api.GET("/campaigns/{cid}/integrations", { params: { path: { cid } } }))).items, [cid]);
  const [mapping, setMapping] = useState<Provider | null>(null);
  const configured = (p: Provider) => integrations.data?.find((i) => i.provider === p && i.configured);
  return (
    <Page title="Integrations">
      <p>Reports sync to the CRMs connected here. Credentials are tried against the CRM before they are saved.</p>
      <Alert error={integrations.error} />
      {(Object.keys(PROVIDERS) as Provider[]).map((p) => (
        <Connect key={p} cid={cid} provider={p} current={configured(p)} onChange={() => void integrations.reload()} onMap={() => setMapping(p)} />
      ))}
      {mapping && configured(mapping) ? (
        <MappingEditor key={mapping} cid={cid} provider={mapping} saved={configured(mapping)?.instructions ?? null} onSaved={() => void integrations.reload()} />
      ) : null}
    </Page>
  );
}

function Connect(props: { cid: string; provider: Provider; current: Schemas["Integration"] | undefined; onChange: () => void; onMap: () => void }) {
  const { cid, provider, current } = props;
  const { busy, error, run } = useAction();
  const [saved, setSaved] = useState(false);
  const title = PROVIDERS[provider];
  return (
    <form
      aria-label={`Connect ${title}`}
      class="panel"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const body: Record<string, string | number> = {};
        for (const f of CREDENTIALS[provider]) body[f.name] = String(form.get(f.name) ?? "").trim();
        if (provider === "van") body.db_mode = Number(form.get("db_mode"));
        void run(async () => {
          setSaved(false);
          await must(api.PUT("/campaigns/{cid}/integrations/{provider}", { params: { path: { cid, provider } }, body: untyped(body) }));
          (e.target as HTMLFormElement).reset(); // the secret leaves the page once sent
          setSaved(true);
          props.onChange();
        });
      }}
    >
      <h2>{title}</h2>
      <p>
        {current ? (
          <>
            Connected{current.key_hint ? ` (key ending ${current.key_hint})` : ""}
            {current.paused ? ", paused" : ""}.
          </>
        ) : (
          "Not connected."
        )}
      </p>
      <div class="inline">
        {CREDENTIALS[provider].map((f) => (
          <Field key={f.name} label={`${title} ${f.label}`} hint={f.secret && current ? "Saved secrets are never shown. Type a new one to replace it." : undefined}>
            <input name={f.name} type={f.secret ? "password" : "text"} autoComplete="off" required />
          </Field>
        ))}
        {provider === "van" ? (
          <Field label="VAN database">
            <select name="db_mode" defaultValue="1">
              <option value="0">MyVoters</option>
              <option value="1">MyCampaign</option>
            </select>
          </Field>
        ) : null}
        <button type="submit" disabled={busy}>
          {current ? `Replace ${title} credentials` : `Connect ${title}`}
        </button>
      </div>
      <Alert error={error} />
      {saved ? <Notice>{title} is connected.</Notice> : null}
      {current ? (
        <p class="inline">
          <button type="button" class="secondary" onClick={props.onMap}>
            Map actions to {title}
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() => {
              if (!confirm(`Disconnect ${title}? Its credentials are deleted.`)) return;
              void run(async () => {
                await must(api.DELETE("/campaigns/{cid}/integrations/{provider}", { params: { path: { cid, provider } } }));
                props.onChange();
              });
            }}
          >
            Disconnect {title}
          </button>
        </p>
      ) : null}
    </form>
  );
}

type ActionMapping = {
  contact_type_id?: string | number;
  results: Record<string, string | number>;
  questions: Record<string, { external_question_id: string | number; responses: Record<string, string | number> }>;
  activist_codes: (string | number)[];
};

/** The mapping as the API stored it, in the editor's shape (a CRM's own options, such as VAN's
 * contact type, sit beside the common fields). */
function loaded(saved: Schemas["Instructions"] | null): Record<string, ActionMapping> {
  const out: Record<string, ActionMapping> = {};
  for (const [aid, m] of Object.entries(saved?.actions ?? {})) {
    const { results, questions, activist_codes, ...options } = m;
    out[aid] = { ...(options as Partial<ActionMapping>), results: { ...results }, questions: { ...questions }, activist_codes: [...activist_codes] };
  }
  return out;
}

/** Only what the CRM's catalog holds can be chosen: every select lists catalog entries. It
 * starts from the saved mapping, and a save sends every action's (the API replaces the whole). */
function MappingEditor(props: { cid: string; provider: Provider; saved: Schemas["Instructions"] | null; onSaved: () => void }) {
  const { cid, provider } = props;
  const title = PROVIDERS[provider];
  const data = useLoad(
    async () => {
      const [catalog, actions] = await Promise.all([
        must(api.GET("/campaigns/{cid}/integrations/{provider}/catalog", { params: { path: { cid, provider } } })),
        must(api.GET("/campaigns/{cid}/actions", { params: { path: { cid }, query: { limit: 200 } } })),
      ]);
      return { catalog: catalog as Catalog, actions: actions.items };
    },
    [cid, provider],
  );
  const [mapping, setMapping] = useState<Record<string, ActionMapping>>(() => loaded(props.saved));
  const { busy, error, run } = useAction();
  const [saved, setSaved] = useState(false);
  if (!data.data) return <Alert error={data.error} />;
  const { catalog, actions } = data.data;
  const codes = catalog.activist_codes ?? catalog.tags ?? [];
  const of = (aid: string): ActionMapping => mapping[aid] ?? { results: {}, questions: {}, activist_codes: [] };
  const change = (aid: string, next: (m: ActionMapping) => ActionMapping) => {
    setSaved(false);
    setMapping({ ...mapping, [aid]: next(of(aid)) });
  };
  const pick = (list: Option[] | undefined, value: string) => list?.find((o) => String(o.id) === value)?.id;

  return (
    <form
      aria-label={`Map actions to ${title}`}
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          await must(api.PUT("/campaigns/{cid}/integrations/{provider}/instructions", { params: { path: { cid, provider } }, body: { actions: mapping } }));
          setSaved(true);
          props.onSaved();
        });
      }}
    >
      <h2>Map actions to {title}</h2>
      <p>Each choice lists only what {title}'s catalog holds. A report syncs only when its action is mapped.</p>
      {actions.map((a) => {
        const m = of(a.action_id);
        return (
          <fieldset key={a.action_id}>
            <legend>{a.title}</legend>
            {catalog.contact_types ? (
              <Field label={`${a.title}: ${title} contact type`}>
                <select
                  value={m.contact_type_id === undefined ? "" : String(m.contact_type_id)}
                  onChange={(e) => change(a.action_id, (x) => ({ ...x, contact_type_id: pick(catalog.contact_types, (e.target as HTMLSelectElement).value) }))}
                >
                  <option value="">not chosen</option>
                  {catalog.contact_types.map((t) => (
                    <option key={t.id} value={String(t.id)}>
                      {t.name}
                    </option>
                  ))}
                </select>
              </Field>
            ) : null}
            {catalog.result_codes?.length ? (
              <div class="inline">
                {RESULTS.filter((r) => r !== "canvassed").map((r) => (
                  <Field key={r} label={`${a.title}: result ${r.replace("_", " ")}`}>
                    <select
                      value={String(m.results[r] ?? "")}
                      onChange={(e) =>
                        change(a.action_id, (x) => {
                          const id = pick(catalog.result_codes, (e.target as HTMLSelectElement).value);
                          const results = { ...x.results };
                          if (id === undefined) delete results[r];
                          else results[r] = id;
                          return { ...x, results };
                        })
                      }
                    >
                      <option value="">not mapped</option>
                      {catalog.result_codes!.map((c) => (
                        <option key={c.id} value={String(c.id)}>
                          {c.name}
                        </option>
                      ))}
                    </select>
                  </Field>
                ))}
              </div>
            ) : null}
            {a.questions.map((q) => {
              const chosen = m.questions[q.question_id];
              const external = catalog.survey_questions?.find((s) => String(s.id) === String(chosen?.external_question_id));
              return (
                <div key={q.question_id}>
                  <Field label={`${a.title}: question “${q.text}”`}>
                    <select
                      value={chosen ? String(chosen.external_question_id) : ""}
                      onChange={(e) =>
                        change(a.action_id, (x) => {
                          const id = pick(catalog.survey_questions, (e.target as HTMLSelectElement).value);
                          const questions = { ...x.questions };
                          if (id === undefined) delete questions[q.question_id];
                          else questions[q.question_id] = { external_question_id: id, responses: {} };
                          return { ...x, questions };
                        })
                      }
                    >
                      <option value="">not mapped</option>
                      {(catalog.survey_questions ?? []).map((s) => (
                        <option key={s.id} value={String(s.id)}>
                          {s.name}
                        </option>
                      ))}
                    </select>
                  </Field>
                  {external ? (
                    <div class="inline">
                      {q.responses.map((r) => (
                        <Field key={r.response_id} label={`“${q.text}”: response “${r.text}”`}>
                          <select
                            value={String(chosen?.responses[r.response_id] ?? "")}
                            onChange={(e) =>
                              change(a.action_id, (x) => {
                                const id = pick(external.responses, (e.target as HTMLSelectElement).value);
                                const current = x.questions[q.question_id]!;
                                const responses = { ...current.responses };
                                if (id === undefined) delete responses[r.response_id];
                                else responses[r.response_id] = id;
                                return { ...x, questions: { ...x.questions, [q.question_id]: { ...current, responses } } };
                              })
                            }
                          >
                            <option value="">not mapped</option>
                            {(external.responses ?? []).map((o) => (
                              <option key={o.id} value={String(o.id)}>
                                {o.name}
                              </option>
                            ))}
                          </select>
                        </Field>
                      ))}
                    </div>
                  ) : null}
                </div>
              );
            })}
            {codes.length ? (
              <fieldset>
                <legend>{a.title}: {catalog.tags ? "tags" : "activist codes"} for canvassed reports</legend>
                {codes.map((c) => (
                  <label key={c.id} class="check">
                    <input
                      type="checkbox"
                      checked={m.activist_codes.some((x) => String(x) === String(c.id))}
                      onChange={(e) =>
                        change(a.action_id, (x) => ({
                          ...x,
                          activist_codes: (e.target as HTMLInputElement).checked
                            ? [...x.activist_codes, c.id]
                            : x.activist_codes.filter((y) => String(y) !== String(c.id)),
                        }))
                      }
                    />{" "}
                    {c.name}
                  </label>
                ))}
              </fieldset>
            ) : null}
          </fieldset>
        );
      })}
      <Alert error={error} />
      {saved ? <Notice>The mapping to {title} is saved.</Notice> : null}
      <button type="submit" disabled={busy}>
        Save the mapping to {title}
      </button>
    </form>
  );
}

import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api/client";
import { Alert, Field, Page, TableHead, useAction, useLoad, when } from "../ui";

type Action = Schemas["Action"] & { deleted_by?: string | null };
const TYPES = ["text", "call", "canvass", "share", "survey"] as const;
const STATUSES = ["draft", "live", "closed"] as const;

interface DraftQuestion {
  question_id?: string | null;
  text: string;
  responses: { response_id?: string | null; text: string }[];
}

export function ActionsPage(props: { cid: string }) {
  const { cid } = props;
  const [showDeleted, setShowDeleted] = useState(false);
  const [editing, setEditing] = useState<Action | "new" | null>(null);
  const actions = useLoad(
    async () =>
      (
        await must(
          api.GET("/campaigns/{cid}/actions", {
            params: { path: { cid }, query: { limit: 200, include_deleted: showDeleted || undefined } },
          }),
        )
      ).items as Action[],
    [cid, showDeleted],
  );
  const { busy, error, run } = useAction();

  const act = (work: () => Promise<unknown>) =>
    void run(async () => {
      await work();
      await actions.reload();
    });
  const path = (a: Action) => ({ params: { path: { cid, aid: a.action_id } } });

  return (
    <Page title="Actions">
      <p>What volunteers are asked to do. Volunteers see live actions only.</p>
      <div class="inline">
        <button type="button" onClick={() => setEditing("new")}>
          New action
        </button>
        <label>
          <input type="checkbox" checked={showDeleted} onChange={(e) => setShowDeleted((e.target as HTMLInputElement).checked)} />{" "}
          Show deleted actions
        </label>
      </div>
      {editing ? (
        <ActionForm
          cid={cid}
          action={editing === "new" ? null : editing}
          onDone={() => {
            setEditing(null);
            void actions.reload();
          }}
        />
      ) : null}
      <Alert error={actions.error ?? error} />
      <table>
        <caption class="visually-hidden">Actions of this campaign</caption>
        <TableHead columns={["Title", "Type", "Status", "Questions"]} actions />
        <tbody>
          {(actions.data ?? []).map((a) => (
            <tr key={a.action_id} class={a.deleted_at ? "deleted" : ""}>
              <td>
                {a.title}
                {a.deleted_at ? <span class="badge"> deleted {when(a.deleted_at)}</span> : null}
              </td>
              <td>{a.type}</td>
              <td>
                {a.deleted_at ? (
                  a.status
                ) : (
                  <select
                    aria-label={`Status of ${a.title}`}
                    value={a.status}
                    disabled={busy}
                    onChange={(e) => {
                      const status = (e.target as HTMLSelectElement).value as (typeof STATUSES)[number];
                      act(() => must(api.PATCH("/campaigns/{cid}/actions/{aid}", { ...path(a), body: { status } })));
                    }}
                  >
                    {STATUSES.map((s) => (
                      <option key={s} value={s}>
                        {s}
                      </option>
                    ))}
                  </select>
                )}
              </td>
              <td>{a.questions.length}</td>
              <td class="inline">
                {a.deleted_at ? (
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy}
                    aria-label={`Restore ${a.title}`}
                    onClick={() => act(() => must(api.POST("/campaigns/{cid}/actions/{aid}/restore", path(a))))}
                  >
                    Restore
                  </button>
                ) : (
                  <>
                    <button type="button" class="secondary" aria-label={`Edit ${a.title}`} onClick={() => setEditing(a)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      class="danger"
                      disabled={busy}
                      aria-label={`Delete ${a.title}`}
                      onClick={() => {
                        if (confirm(`Delete "${a.title}"? It can be restored later.`))
                          act(() => must(api.DELETE("/campaigns/{cid}/actions/{aid}", path(a))));
                      }}
                    >
                      Delete
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {actions.data && actions.data.length === 0 ? <p>No actions yet.</p> : null}
    </Page>
  );
}

function ActionForm(props: { cid: string; action: Action | null; onDone: () => void }) {
  const { cid, action } = props;
  const [questions, setQuestions] = useState<DraftQuestion[]>(
    () =>
      action?.questions.map((q) => ({
        question_id: q.question_id,
        text: q.text,
        responses: q.responses.map((r) => ({ response_id: r.response_id, text: r.text })),
      })) ?? [],
  );
  const { busy, error, run } = useAction();
  const update = (i: number, change: (q: DraftQuestion) => DraftQuestion) =>
    setQuestions(questions.map((q, j) => (j === i ? change(q) : q)));

  return (
    <form
      class="panel"
      aria-label={action ? `Edit ${action.title}` : "New action"}
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const body = {
          type: String(form.get("type")) as (typeof TYPES)[number],
          title: String(form.get("title") ?? "").trim(),
          instructions: String(form.get("instructions") ?? "").trim() || null,
          status: String(form.get("status")) as (typeof STATUSES)[number],
          questions: questions.map((q) => ({
            ...(q.question_id ? { question_id: q.question_id } : {}),
            text: q.text.trim(),
            responses: q.responses.map((r) => ({ ...(r.response_id ? { response_id: r.response_id } : {}), text: r.text.trim() })),
          })),
        };
        void run(async () => {
          if (action) {
            await must(api.PATCH("/campaigns/{cid}/actions/{aid}", { params: { path: { cid, aid: action.action_id } }, body }));
          } else {
            await must(api.POST("/campaigns/{cid}/actions", { params: { path: { cid } }, body }));
          }
          props.onDone();
        });
      }}
    >
      <h2>{action ? `Edit “${action.title}”` : "New action"}</h2>
      <Field label="Title">
        <input name="title" defaultValue={action?.title ?? ""} required maxLength={200} />
      </Field>
      <Field label="Type">
        <select name="type" defaultValue={action?.type ?? "canvass"}>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Status">
        <select name="status" defaultValue={action?.status ?? "draft"}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Instructions for volunteers">
        <textarea name="instructions" rows={3} defaultValue={action?.instructions ?? ""} maxLength={20000} />
      </Field>
      {questions.map((q, i) => (
        <fieldset key={i}>
          <legend>Question {i + 1}</legend>
          <Field label={`Question ${i + 1} text`}>
            <input value={q.text} required onInput={(e) => update(i, (x) => ({ ...x, text: (e.target as HTMLInputElement).value }))} />
          </Field>
          {q.responses.map((r, k) => (
            <div class="inline" key={k}>
              <Field label={`Question ${i + 1}, response ${k + 1}`}>
                <input
                  value={r.text}
                  required
                  onInput={(e) =>
                    update(i, (x) => ({
                      ...x,
                      responses: x.responses.map((y, m) => (m === k ? { ...y, text: (e.target as HTMLInputElement).value } : y)),
                    }))
                  }
                />
              </Field>
              <button
                type="button"
                class="secondary"
                aria-label={`Remove response ${k + 1} of question ${i + 1}`}
                onClick={() => update(i, (x) => ({ ...x, responses: x.responses.filter((_, m) => m !== k) }))}
              >
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="secondary" onClick={() => update(i, (x) => ({ ...x, responses: [...x.responses, { text: "" }] }))}>
            Add a response to question {i + 1}
          </button>{" "}
          <button type="button" class="secondary" onClick={() => setQuestions(questions.filter((_, j) => j !== i))}>
            Remove question {i + 1}
          </button>
        </fieldset>
      ))}
      <p>
        <button type="button" class="secondary" onClick={() => setQuestions([...questions, { text: "", responses: [{ text: "" }, { text: "" }] }])}>
          Add a question
        </button>
      </p>
      <Alert error={error} />
      <button type="submit" disabled={busy}>
        {action ? "Save changes" : "Create action"}
      </button>{" "}
      <button type="button" class="secondary" onClick={props.onDone}>
        Cancel
      </button>
    </form>
  );
}

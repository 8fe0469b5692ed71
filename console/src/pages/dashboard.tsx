// The campaign dashboard, from GET /campaigns/{cid}/stats. It lives outside src/ because this
// branch's OpenAPI document has no such route yet, and the typed client refuses routes the
// document lacks; it type-checks against the document of the branch that adds the route. Once
// the document has it: move this file to src/pages/ and route it in src/app.tsx as the
// campaign's first page (case "").
import { api, must, type Schemas } from "../api/client";
import { Alert, Page, useLoad } from "../ui";

type Stats = Schemas["Stats"];

/** Horizontal bars as SVG attributes only (the CSP allows no inline style), with the figures
 * as text too, so the chart is not the only way to read them. */
function Bars(props: { label: string; data: [string, number][] }) {
  const max = Math.max(1, ...props.data.map(([, n]) => n));
  const height = 24 * props.data.length;
  return (
    <figure>
      <figcaption>{props.label}</figcaption>
      <svg role="img" aria-label={`${props.label}: ${props.data.map(([k, n]) => `${k} ${n}`).join(", ")}`} width="480" height={height} viewBox={`0 0 480 ${height}`}>
        {props.data.map(([key, n], i) => (
          <g key={key} transform={`translate(0 ${i * 24})`}>
            <text x="0" y="16" font-size="13">
              {key.replace("_", " ")}
            </text>
            <rect x="130" y="4" height="16" width={Math.round((300 * n) / max)} fill="#0b5cad" />
            <text x={136 + Math.round((300 * n) / max)} y="16" font-size="13">
              {n}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

export function DashboardPage(props: { cid: string }) {
  const { cid } = props;
  const stats = useLoad<Stats>(() => must(api.GET("/campaigns/{cid}/stats", { params: { path: { cid } } })), [cid]);
  const s = stats.data;
  return (
    <Page title="Dashboard">
      <Alert error={stats.error} />
      {s ? (
        <>
          <dl class="figures">
            <div>
              <dt>Volunteers</dt>
              <dd>{s.members.volunteers}</dd>
            </div>
            <div>
              <dt>Admins</dt>
              <dd>{s.members.admins}</dd>
            </div>
            <div>
              <dt>Synced contacts</dt>
              <dd>{s.synced_contacts}</dd>
            </div>
            <div>
              <dt>Reports</dt>
              <dd>{s.reports.total}</dd>
            </div>
          </dl>
          <Bars label="Reports by result" data={Object.entries(s.reports.by_result as Record<string, number>)} />
          <Bars label="Sync health" data={Object.entries(s.sync) as [string, number][]} />
          <h2>Per action</h2>
          {s.actions
            .filter((a) => !a.deleted)
            .map((a) => (
            <section key={a.action_id} aria-label={a.title}>
              <h3>
                {a.title}: {a.reports} report{a.reports === 1 ? "" : "s"}
              </h3>
              <Bars label={`${a.title}: results`} data={Object.entries(a.by_result as Record<string, number>)} />
              {a.questions.map((q) => (
                <Bars key={q.question_id} label={q.text} data={q.responses.map((r) => [r.text, r.count])} />
              ))}
            </section>
            ))}
        </>
      ) : null}
    </Page>
  );
}

// The campaign's first page: its figures from GET /campaigns/{cid}/stats, with charts where a
// person would rather look than read (results, each question's answers, sync health).
import { api, must, type Schemas } from "../api/client";
import { Alert, Link, Page, useLoad } from "../ui";

type Stats = Schemas["Stats"];

const RESULT_ORDER = ["canvassed", "not_home", "refused", "wrong_number", "moved", "deceased", "other"];
const SYNC_COLOURS: Record<string, string> = { synced: "#1e6b35", pending: "#7a4d00", failed: "#a4161a", skipped: "#4a5360" };

function words(key: string): string {
  return key.replaceAll("_", " ");
}

/** Horizontal bars as SVG attributes only (the CSP allows no inline style), with the figures
 * as text too, so the chart is not the only way to read them. */
function Bars(props: { label: string; data: [string, number][]; colours?: Record<string, string> }) {
  const max = Math.max(1, ...props.data.map(([, n]) => n));
  const height = 24 * props.data.length;
  const short = (text: string) => (text.length > 20 ? `${text.slice(0, 19)}…` : text);
  return (
    <figure>
      <figcaption>{props.label}</figcaption>
      <svg
        role="img"
        aria-label={`${props.label}: ${props.data.map(([k, n]) => `${words(k)} ${n}`).join(", ")}`}
        width="480"
        height={height}
        viewBox={`0 0 480 ${height}`}
      >
        {props.data.map(([key, n], i) => (
          <g key={key} transform={`translate(0 ${i * 24})`}>
            <text x="0" y="16" font-size="13" fill="#1b1f24">
              {short(words(key))}
            </text>
            <rect x="150" y="4" height="16" width={Math.round((280 * n) / max)} fill={props.colours?.[key] ?? "#0b5cad"} />
            <text x={156 + Math.round((280 * n) / max)} y="16" font-size="13" fill="#1b1f24">
              {n}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** Results in the order the app offers them, those with no report left out. */
function results(byResult: Record<string, number>): [string, number][] {
  const known = RESULT_ORDER.filter((r) => byResult[r]).map((r): [string, number] => [r, byResult[r]!]);
  const others = Object.entries(byResult).filter(([r, n]) => n && !RESULT_ORDER.includes(r));
  return [...known, ...others];
}

export function DashboardPage(props: { cid: string; name: string }) {
  const { cid } = props;
  const stats = useLoad<Stats>(() => must(api.GET("/campaigns/{cid}/stats", { params: { path: { cid } } })), [cid]);
  const s = stats.data;
  const sync: [string, number][] = s ? (["synced", "pending", "failed", "skipped"] as const).map((k) => [k, s.sync[k]]) : [];
  const sent = sync.reduce((total, [, n]) => total + n, 0);
  return (
    <Page title={`${props.name}: dashboard`}>
      <Alert error={stats.error} />
      {s ? (
        <>
          <h2 class="visually-hidden">Figures</h2>
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
          <p class="inline">
            <button type="button" class="secondary" disabled={stats.loading} onClick={() => void stats.reload()}>
              Refresh the figures
            </button>
            <Link to={`/c/${cid}/exports`}>Export to a spreadsheet</Link>
          </p>
          {s.reports.total === 0 ? (
            <p>
              No reports yet. Volunteers file them from the app once an action is <Link to={`/c/${cid}/actions`}>live</Link>.
            </p>
          ) : (
            <div class="charts">
              <Bars label="Reports by result" data={results(s.reports.by_result)} />
              {sent ? (
                <Bars label="Sync health (reports per state, all CRMs)" data={sync} colours={SYNC_COLOURS} />
              ) : (
                <p>
                  No report has been sent to a CRM: <Link to={`/c/${cid}/integrations`}>connect one</Link> to sync them.
                </p>
              )}
            </div>
          )}
          {s.actions.some((a) => !a.deleted && a.reports) ? <h2>Per action</h2> : null}
          {s.actions
            .filter((a) => !a.deleted && a.reports)
            .map((a) => (
              <section key={a.action_id} aria-label={a.title}>
                <h3>
                  {a.title}: {a.reports} report{a.reports === 1 ? "" : "s"}
                </h3>
                <div class="charts">
                  <Bars label={`${a.title}: results`} data={results(a.by_result)} />
                  {a.questions.map((q) => (
                    <Bars key={q.question_id} label={q.text} data={q.responses.map((r) => [r.text, r.count])} />
                  ))}
                </div>
              </section>
            ))}
        </>
      ) : null}
    </Page>
  );
}

import { Page } from "../ui";

export function ReportsPage(_props: { cid: string }) {
  return <Page title="ReportsPage"><p>Coming next.</p></Page>;
}

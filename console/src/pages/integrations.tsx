import { Page } from "../ui";

export function IntegrationsPage(_props: { cid: string }) {
  return <Page title="IntegrationsPage"><p>Coming next.</p></Page>;
}

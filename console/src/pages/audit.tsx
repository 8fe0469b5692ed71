import { Page } from "../ui";

export function AuditPage(_props: { cid: string; campaignName: string }) {
  return <Page title="AuditPage"><p>Coming next.</p></Page>;
}

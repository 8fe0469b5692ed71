import { api, must } from "../api/client";
import { navigate } from "../router";
import { reloadMe } from "../session";
import { Alert, Field, Link, Notice, Page, useAction, useLoad } from "../ui";

export function CampaignPage(props: { cid: string }) {
  const { cid } = props;
  const campaign = useLoad(() => must(api.GET("/campaigns/{cid}", { params: { path: { cid } } })), [cid]);
  const { busy, error, run } = useAction();
  const saved = useAction();
  return (
    <Page title={campaign.data ? campaign.data.name : "Campaign"}>
      <Alert error={campaign.error} />
      <p>
        The campaign's name, as its volunteers see it in the app. Its figures are on the <Link to={`/c/${cid}`}>dashboard</Link>.
      </p>
      {campaign.data ? (
        <form
          key={campaign.data.name}
          onSubmit={(e) => {
            e.preventDefault();
            const name = String(new FormData(e.currentTarget).get("name") ?? "").trim();
            void run(async () => {
              await must(api.PATCH("/campaigns/{cid}", { params: { path: { cid } }, body: { name } }));
              await campaign.reload();
              await reloadMe();
              saved.setError(null);
            });
          }}
        >
          <h2>Rename the campaign</h2>
          <Field label="Campaign name">
            <input name="name" defaultValue={campaign.data.name} required maxLength={200} />
          </Field>
          <Alert error={error} />
          <button type="submit" disabled={busy}>
            Rename
          </button>
        </form>
      ) : null}
      <p>
        <Link to="/new-campaign">Start another campaign</Link>
      </p>
    </Page>
  );
}

export function NewCampaignPage() {
  const { busy, error, run } = useAction();
  return (
    <Page title="Start a campaign">
      <Notice>You become the new campaign's admin.</Notice>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const name = String(new FormData(e.currentTarget).get("name") ?? "").trim();
          void run(async () => {
            const created = await must(api.POST("/campaigns", { body: { name } }));
            await reloadMe();
            navigate(`/c/${created.campaign_id}`);
          });
        }}
      >
        <Field label="Campaign name">
          <input name="name" required maxLength={200} data-autofocus />
        </Field>
        <Alert error={error} />
        <button type="submit" disabled={busy}>
          Create campaign
        </button>
      </form>
    </Page>
  );
}

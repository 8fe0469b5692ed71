import { useEffect, useState } from "preact/hooks";
import { AccountPage } from "./pages/account";
import { ActionsPage } from "./pages/actions";
import { AuditPage } from "./pages/audit";
import { CampaignPage, NewCampaignPage } from "./pages/campaign";
import { DashboardPage } from "./pages/dashboard";
import { ExportsPage } from "./pages/exports";
import { IntegrationsPage } from "./pages/integrations";
import { ListsPage } from "./pages/lists";
import { MembersPage } from "./pages/members";
import { ReportsPage } from "./pages/reports";
import { ForgotPage, SignInPage } from "./pages/signin";
import { navigate, Redirect, useRoute } from "./router";
import { current, signOut, subscribe, type Me } from "./session";
import { Link, Page } from "./ui";

export const SECTIONS = [
  ["", "Dashboard"],
  ["actions", "Actions"],
  ["members", "Members"],
  ["lists", "Voter lists"],
  ["reports", "Reports & sync"],
  ["exports", "Exports"],
  ["integrations", "Integrations"],
  ["audit", "Audit & privacy"],
  ["campaign", "Campaign"],
] as const;

function useSession() {
  const [, tick] = useState(0);
  useEffect(() => subscribe(() => tick((n) => n + 1)), []);
  return current();
}

function adminCampaigns(me: Me) {
  return me.memberships.filter((m) => m.role === "admin");
}

export function App() {
  const route = useRoute();
  const session = useSession();
  const me = session.me;

  if (!me) {
    if (route === "/forgot") return <Frame><ForgotPage /></Frame>;
    return (
      <Frame>
        {route !== "/signin" ? <Redirect to="/signin" /> : null}
        <SignInPage notice={session.notice} />
      </Frame>
    );
  }
  if (route === "/signin" || route === "/forgot" || route === "/") {
    const first = adminCampaigns(me)[0];
    return <Redirect to={first && me.mfa_enabled && me.mfa_verified ? `/c/${first.campaign_id}` : "/home"} />;
  }
  return (
    <Frame me={me} route={route}>
      <Routed me={me} route={route} />
    </Frame>
  );
}

function Routed(props: { me: Me; route: string }) {
  const { me, route } = props;
  if (route === "/account") return <AccountPage me={me} />;
  const parts = route.split("/").filter(Boolean);
  if (route === "/new-campaign" && me.mfa_enabled && me.mfa_verified) return <NewCampaignPage />;
  const gate = closed(me);
  if (gate) return gate;
  if (route === "/home") return <Redirect to={`/c/${adminCampaigns(me)[0]?.campaign_id}`} />;
  if (parts[0] !== "c" || !parts[1]) return <NotFound />;
  const cid = parts[1];
  const membership = me.memberships.find((m) => m.campaign_id === cid);
  if (!membership || membership.role !== "admin") {
    return (
      <Page title="Not available">
        <p>You are not an admin of this campaign, or it does not exist.</p>
      </Page>
    );
  }
  switch (parts[2] ?? "") {
    case "":
      return <DashboardPage cid={cid} name={membership.campaign_name ?? ""} />;
    case "campaign":
      return <CampaignPage cid={cid} />;
    case "actions":
      return <ActionsPage cid={cid} />;
    case "members":
      return <MembersPage cid={cid} me={me} />;
    case "lists":
      return <ListsPage cid={cid} />;
    case "reports":
      return <ReportsPage cid={cid} />;
    case "exports":
      return <ExportsPage cid={cid} />;
    case "integrations":
      return <IntegrationsPage cid={cid} />;
    case "audit":
      return <AuditPage cid={cid} campaignName={membership.campaign_name ?? ""} />;
    default:
      return <NotFound />;
  }
}

/** Why admin pages are closed to this person, or null when they are open. */
function closed(me: Me) {
  if (adminCampaigns(me).length === 0) {
    return (
      <Page title="This console is for campaign admins">
        <p>
          You are not an admin of any campaign. Volunteers use the mobile app; an admin of your campaign can
          make you an admin if you need the console.{" "}
          {me.mfa_enabled && me.mfa_verified ? (
            <Link to="/new-campaign">Start a campaign of your own</Link>
          ) : (
            <>
              To start a campaign of your own, first <Link to="/account">enrol two-factor sign-in</Link>.
            </>
          )}
        </p>
      </Page>
    );
  }
  if (!me.mfa_enabled || !me.mfa_verified) {
    return (
      <Page title="Admin pages are closed until you enrol two-factor sign-in">
        <p>
          Campaign admins see volunteers' reports and the people on voter lists, so every admin page needs
          a sign-in that passed a second factor: a six-digit code from an authenticator app (TOTP).
        </p>
        <p>
          Enrol on <Link to="/account">your account page</Link>: scan the QR code with an authenticator app,
          type the code it shows, and save your recovery codes. The admin pages open at once.
        </p>
      </Page>
    );
  }
  return null;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is no such page. <Link to="/">Go to the start page</Link>.
      </p>
    </Page>
  );
}

function Frame(props: { me?: Me; route?: string; children: preact.ComponentChildren }) {
  const { me, route = "" } = props;
  const parts = route.split("/").filter(Boolean);
  const cid = parts[0] === "c" ? parts[1] : undefined;
  const section = parts[0] === "c" ? (parts[2] ?? "") : undefined;
  const admin = me ? adminCampaigns(me) : [];
  const open = me && me.mfa_enabled && me.mfa_verified;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Volunteer organizer</span>
        {me && open && admin.length > 0 ? (
          <label class="switch">
            <span aria-hidden="true">Campaign</span>
            <select
              aria-label="Switch campaign"
              value={cid ?? ""}
              onChange={(e) => {
                const value = (e.target as HTMLSelectElement).value;
                navigate(value === "+" ? "/new-campaign" : `/c/${value}${section ? `/${section}` : ""}`);
              }}
            >
              {cid ? null : <option value="">Choose a campaign</option>}
              {admin.map((m) => (
                <option key={m.campaign_id} value={m.campaign_id}>
                  {m.campaign_name}
                </option>
              ))}
              <option value="+">New campaign…</option>
            </select>
          </label>
        ) : null}
        {me ? (
          <span class="who">
            <Link to="/account" current={route === "/account"}>
              {me.name || me.email}
            </Link>
            <button type="button" class="link" onClick={() => void signOut("You signed out.")}>
              Sign out
            </button>
          </span>
        ) : null}
      </header>
      {me && open && cid ? (
        <nav aria-label="Campaign sections" class="sections">
          {SECTIONS.map(([slug, label]) => (
            <Link key={slug} to={`/c/${cid}${slug ? `/${slug}` : ""}`} current={section === slug}>
              {label}
            </Link>
          ))}
        </nav>
      ) : null}
      <main id="main">{props.children}</main>
    </>
  );
}

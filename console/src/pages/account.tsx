import qrcode from "qrcode-generator";
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api/client";
import { reloadMe, type Me } from "../session";
import { Alert, Field, Notice, Page, TableHead, useAction, useLoad, when } from "../ui";

export function AccountPage(props: { me: Me }) {
  return (
    <Page title="Your account">
      <p>
        Signed in as <strong>{props.me.email}</strong>.
      </p>
      <TwoFactor me={props.me} />
      {props.me.mfa_enabled ? <RecoveryCodes /> : null}
      <Sessions />
    </Page>
  );
}

function qrImage(text: string): string {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  return qr.createDataURL(4, 8); // a GIF as a data: URL, which the CSP allows for images
}

function TwoFactor(props: { me: Me }) {
  const [enrolment, setEnrolment] = useState<Schemas["TotpStart"] | null>(null);
  const { busy, error, run } = useAction();
  if (props.me.mfa_enabled) {
    return (
      <section aria-labelledby="mfa-title">
        <h2 id="mfa-title">Two-factor sign-in</h2>
        <Notice>Two-factor sign-in is on: each sign-in asks for a code from your authenticator app.</Notice>
      </section>
    );
  }
  return (
    <section aria-labelledby="mfa-title">
      <h2 id="mfa-title">Two-factor sign-in</h2>
      <p>Admin pages need two-factor sign-in (TOTP). Enrol with any authenticator app.</p>
      {enrolment ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const code = String(new FormData(e.currentTarget).get("code") ?? "").trim();
            void run(async () => {
              await must(api.POST("/me/mfa/totp/verify", { body: { code } }));
              await reloadMe();
            });
          }}
        >
          <p>Scan this QR code with your authenticator app, or type the secret below into it.</p>
          <img class="qr" src={qrImage(enrolment.otpauth_uri)} alt="QR code to add this account to an authenticator app" />
          <p>
            Secret: <code data-testid="totp-secret">{enrolment.secret}</code>
          </p>
          <Field label="Code the app shows">
            <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required />
          </Field>
          <Alert error={error} />
          <button type="submit" disabled={busy}>
            Turn on two-factor sign-in
          </button>
        </form>
      ) : (
        <>
          <Alert error={error} />
          <button
            type="button"
            disabled={busy}
            onClick={() => void run(async () => setEnrolment(await must(api.POST("/me/mfa/totp"))))}
          >
            Enrol an authenticator app
          </button>
        </>
      )}
    </section>
  );
}

function RecoveryCodes() {
  const [codes, setCodes] = useState<string[] | null>(null);
  const { busy, error, run } = useAction();
  return (
    <section aria-labelledby="recovery-title">
      <h2 id="recovery-title">Recovery codes</h2>
      <p>
        If you lose your phone, a recovery code signs you in instead of the app's code, once each. Making new
        codes replaces any earlier set.
      </p>
      {codes ? (
        <>
          <Notice>Save these codes now, somewhere safe: they are shown only once.</Notice>
          <ol class="codes" aria-label="Recovery codes">
            {codes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ol>
          <a
            class="button"
            download="recovery-codes.txt"
            href={URL.createObjectURL(new Blob([codes.join("\n") + "\n"], { type: "text/plain" }))}
          >
            Download the codes
          </a>
        </>
      ) : null}
      <Alert error={error} />
      <button
        type="button"
        disabled={busy}
        onClick={() => void run(async () => setCodes((await must(api.POST("/me/mfa/recovery-codes"))).codes))}
      >
        Make new recovery codes
      </button>
    </section>
  );
}

function Sessions() {
  const sessions = useLoad(async () => (await must(api.GET("/me/sessions"))).items, []);
  const { busy, error, run } = useAction();
  const others = (sessions.data ?? []).filter((s) => !s.current);
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Where you are signed in</h2>
      <Alert error={sessions.error ?? error} />
      <table>
        <TableHead columns={["Device", "From", "Signed in", "Last seen", "Two-factor"]} actions />
        <tbody>
          {(sessions.data ?? []).map((s) => (
            <tr key={s.session_id}>
              <td>{s.user_agent ?? "unknown device"}</td>
              <td>{s.source_ip ?? ""}</td>
              <td>{when(s.created_at)}</td>
              <td>{when(s.last_seen_at)}</td>
              <td>{s.mfa ? "yes" : "no"}</td>
              <td>
                {s.current ? (
                  <strong>This session</strong>
                ) : (
                  <button
                    type="button"
                    disabled={busy}
                    aria-label={`Sign out ${s.user_agent ?? "the device"} (signed in ${when(s.created_at)})`}
                    onClick={() =>
                      void run(async () => {
                        await must(api.DELETE("/me/sessions/{session_id}", { params: { path: { session_id: s.session_id } } }));
                        await sessions.reload();
                      })
                    }
                  >
                    Sign out
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {others.length > 1 ? (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              await must(api.DELETE("/me/sessions"));
              await sessions.reload();
            })
          }
        >
          Sign out every other session
        </button>
      ) : null}
    </section>
  );
}

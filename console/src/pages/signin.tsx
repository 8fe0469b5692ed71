import { useState } from "preact/hooks";
import { api, must } from "../api/client";
import { navigate } from "../router";
import { secondFactor, signIn } from "../session";
import { Alert, Field, Link, Notice, Page, useAction } from "../ui";

export function SignInPage(props: { notice: string | null }) {
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [useRecovery, setUseRecovery] = useState(false);
  const { busy, error, run } = useAction();

  if (mfaToken) {
    return (
      <Page title="Two-factor sign-in">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const value = String(new FormData(e.currentTarget).get("code") ?? "").trim();
            void run(() => secondFactor(mfaToken, useRecovery ? { recovery_code: value } : { code: value }));
          }}
        >
          {useRecovery ? (
            <Field label="Recovery code" hint="Each recovery code works once.">
              <input key="recovery" name="code" autoComplete="off" required data-autofocus />
            </Field>
          ) : (
            <Field label="Six-digit code from your authenticator app">
              <input key="totp" name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required data-autofocus />
            </Field>
          )}
          <Alert error={error} />
          <button type="submit" disabled={busy}>
            Verify
          </button>{" "}
          <button type="button" class="link" onClick={() => setUseRecovery(!useRecovery)}>
            {useRecovery ? "Use a code from the app instead" : "Use a recovery code instead"}
          </button>{" "}
          <button type="button" class="link" onClick={() => setMfaToken(null)}>
            Start again
          </button>
        </form>
      </Page>
    );
  }
  return (
    <Page title="Sign in to the admin console">
      {props.notice ? <Notice>{props.notice}</Notice> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          void run(async () => {
            const next = await signIn(String(form.get("email") ?? "").trim(), String(form.get("password") ?? ""));
            if (next) setMfaToken(next.mfaToken);
          });
        }}
      >
        <Field label="E-mail">
          <input name="email" type="email" autoComplete="username" required data-autofocus />
        </Field>
        <Field label="Password">
          <input name="password" type="password" autoComplete="current-password" required />
        </Field>
        <Alert error={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p>
        <Link to="/forgot">Forgot your password?</Link>
      </p>
    </Page>
  );
}

export function ForgotPage() {
  const [email, setEmail] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();

  if (done) {
    return (
      <Page title="Password changed">
        <Notice>Your password was changed and every session of your account was signed out.</Notice>
        <p>
          <Link to="/signin">Sign in with the new password</Link>
        </p>
      </Page>
    );
  }
  if (email) {
    return (
      <Page title="Choose a new password">
        <p>If an account exists for {email}, we e-mailed it a reset code. It is valid for one hour.</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const form = new FormData(e.currentTarget);
            const password = String(form.get("password") ?? "");
            if (password !== String(form.get("again") ?? "")) {
              void run(async () => {
                throw new Error("The two passwords differ.");
              });
              return;
            }
            void run(async () => {
              await must(
                api.POST("/auth/password/reset", { body: { email, code: String(form.get("code") ?? "").trim(), password } }),
              );
              setDone(true);
            });
          }}
        >
          <Field label="Reset code from the e-mail">
            <input name="code" autoComplete="one-time-code" required data-autofocus />
          </Field>
          <Field label="New password" hint="At least 12 characters.">
            <input name="password" type="password" autoComplete="new-password" minLength={12} required />
          </Field>
          <Field label="New password again">
            <input name="again" type="password" autoComplete="new-password" minLength={12} required />
          </Field>
          <Alert error={error} />
          <button type="submit" disabled={busy}>
            Change password
          </button>
        </form>
      </Page>
    );
  }
  return (
    <Page title="Forgot your password?">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const value = String(new FormData(e.currentTarget).get("email") ?? "").trim();
          void run(async () => {
            await must(api.POST("/auth/password/forgot", { body: { email: value } }));
            setEmail(value);
          });
        }}
      >
        <Field label="E-mail">
          <input name="email" type="email" autoComplete="username" required data-autofocus />
        </Field>
        <Alert error={error} />
        <button type="submit" disabled={busy}>
          E-mail me a reset code
        </button>{" "}
        <button type="button" class="link" onClick={() => navigate("/signin")}>
          Back to sign-in
        </button>
      </form>
    </Page>
  );
}

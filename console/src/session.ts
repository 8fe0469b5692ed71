/** Who is signed in. The access token lives in memory only; the refresh token may survive a
 * reload in sessionStorage (never localStorage: it would outlive the browser session). */
import { api, must, useTokens, type Schemas } from "./api/client";

const REFRESH_KEY = "vo.refresh_token";

type Tokens = Schemas["Tokens"];
export type Me = Schemas["Me"];

interface State {
  access: string | null;
  me: Me | null;
  /** Why the last session ended, shown on the sign-in page. */
  notice: string | null;
}

const state: State = { access: null, me: null, notice: null };
const listeners = new Set<() => void>();
let refreshTimer: number | undefined;

export function current(): Readonly<State> {
  return state;
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  for (const listener of listeners) listener();
}

useTokens(
  () => state.access,
  () => void end("Your session ended. Please sign in again."),
);

async function adopt(tokens: Tokens): Promise<void> {
  if (!tokens.access_token) throw new Error("no token in the answer");
  state.access = tokens.access_token;
  if (tokens.refresh_token) sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  window.clearTimeout(refreshTimer);
  const seconds = tokens.expires_in ?? 3600;
  refreshTimer = window.setTimeout(() => void refresh(), Math.max(30, seconds * 0.8) * 1000);
  state.me = await must(api.GET("/me"));
  state.notice = null;
  changed();
}

/** Password step: done, or the token the TOTP step needs. */
export async function signIn(email: string, password: string): Promise<{ mfaToken: string } | null> {
  const tokens = await must(api.POST("/auth/login", { body: { email, password } }));
  if (tokens.mfa_required && tokens.mfa_token) return { mfaToken: tokens.mfa_token };
  await adopt(tokens);
  return null;
}

export async function secondFactor(mfaToken: string, answer: { code: string } | { recovery_code: string }): Promise<void> {
  await adopt(await must(api.POST("/auth/mfa", { body: { mfa_token: mfaToken, ...answer } })));
}

async function refresh(): Promise<boolean> {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) return false;
  try {
    await adopt(await must(api.POST("/auth/refresh", { body: { refresh_token: token } })));
    return true;
  } catch {
    sessionStorage.removeItem(REFRESH_KEY);
    return false;
  }
}

/** After a reload: the session of this tab, if its refresh token still works. */
export const restore = refresh;

export async function reloadMe(): Promise<void> {
  state.me = await must(api.GET("/me"));
  changed();
}

function end(notice: string | null): void {
  window.clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
  state.access = null;
  state.me = null;
  state.notice = notice;
  changed();
}

export async function signOut(notice: string | null = null): Promise<void> {
  if (state.access) {
    try {
      await api.POST("/auth/logout");
    } catch {
      /* the tokens are forgotten here whatever the server says */
    }
  }
  end(notice);
}

/** Sign out after `seconds` with no key press, click or scroll. */
export function watchIdle(seconds: number): () => void {
  let timer: number | undefined;
  const arm = () => {
    window.clearTimeout(timer);
    if (!state.access) return;
    timer = window.setTimeout(() => {
      if (state.access) void signOut(`You were signed out after ${duration(seconds)} without activity.`);
    }, seconds * 1000);
  };
  const events = ["pointerdown", "keydown", "wheel", "touchstart"] as const;
  for (const name of events) window.addEventListener(name, arm, { passive: true });
  const unsubscribe = subscribe(arm);
  arm();
  return () => {
    window.clearTimeout(timer);
    unsubscribe();
    for (const name of events) window.removeEventListener(name, arm);
  };
}

function duration(seconds: number): string {
  return seconds >= 60 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
}

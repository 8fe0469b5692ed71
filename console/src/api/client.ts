/** The only way the console talks to the API: a client typed from the OpenAPI document
 * (`schema.gen.ts`, generated from chalicelib/api/openapi.json at build time). A path the
 * document lacks is a type error, so the build fails (scripts/check-client.mjs proves it). */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.gen";

export type Schemas = components["schemas"];
export type Api = ReturnType<typeof createClient<paths>>;

/** An answer the API refused, in its error shape: clients branch on `reason`, never on text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let tokenOf: () => string | null = () => null;
let onUnauthorized: () => void = () => {};

export function useTokens(get: () => string | null, unauthorized: () => void): void {
  tokenOf = get;
  onUnauthorized = unauthorized;
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = tokenOf();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && request.headers.has("Authorization")) onUnauthorized();
    return response;
  },
};

export let api: Api = createClient<paths>({ baseUrl: "" });

export function connect(base: string): Api {
  api = createClient<paths>({ baseUrl: new URL(base || "/", location.origin).href.replace(/\/$/, "") });
  api.use(auth);
  return api;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's body, or an ApiError with the API's own message (it names the field). */
export async function must<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch {
    throw new ApiError(0, "The server could not be reached. Check your connection and try again.");
  }
  if (answer.response.ok) return answer.data as T;
  const body = (answer.error ?? {}) as { Message?: string; Reason?: string; Field?: string };
  const status = answer.response.status;
  let text = body.Message ?? answer.response.statusText ?? "The request failed.";
  if (status === 429) {
    const wait = answer.response.headers.get("Retry-After");
    text = `${text}${wait ? ` Try again in ${wait} seconds.` : ""}`;
  }
  throw new ApiError(status, text, body.Reason, body.Field);
}

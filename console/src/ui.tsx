/** Small building blocks shared by the pages. */
import { cloneElement, type ComponentChildren, type VNode } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "./api/client";
import { href, onLink } from "./router";

export function Link(props: { to: string; children: ComponentChildren; current?: boolean; class?: string }) {
  return (
    <a
      href={href(props.to)}
      class={props.class}
      aria-current={props.current ? "page" : undefined}
      onClick={(e) => onLink(e, props.to)}
    >
      {props.children}
    </a>
  );
}

export function message(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

export function Alert(props: { error: unknown }) {
  if (!props.error) return null;
  return (
    <p role="alert" class="error">
      {message(props.error)}
    </p>
  );
}

export function Notice(props: { children: ComponentChildren }) {
  return (
    <p role="status" class="notice">
      {props.children}
    </p>
  );
}

/** Loads with `load` on mount and whenever `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await load());
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Runs an action, keeping its error and whether it is running, for a form's button. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

/** A labelled control: the label names only the control (not, say, a select's options),
 * and a hint is tied to it with aria-describedby. */
export function Field(props: { label: string; children: VNode; hint?: string }) {
  const id = useId();
  const control = cloneElement(props.children, { id, "aria-describedby": props.hint ? `${id}-hint` : undefined });
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {control}
      {props.hint ? <small id={`${id}-hint`}>{props.hint}</small> : null}
    </div>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** A table's header row: its columns, and a last one (named for screen readers) for buttons. */
export function TableHead(props: { columns: string[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {props.columns.map((column) => (
          <th scope="col" key={column}>
            {column}
          </th>
        ))}
        {props.actions ? (
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        ) : null}
      </tr>
    </thead>
  );
}

/** A page: its title in the tab, and, when it opens, focus on its first field (the one marked
 * `data-autofocus`) or its heading, so keyboard and screen-reader users start at the new page.
 * Not the native `autofocus`: the browser applies that on a later frame of its own, which can
 * take focus back from where the user has already moved it. */
export function Page(props: { title: string; children: ComponentChildren }) {
  const section = useRef<HTMLElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Volunteer organizer console`;
    const target = section.current?.querySelector<HTMLElement>("[data-autofocus]") ?? section.current?.querySelector<HTMLElement>("h1");
    target?.focus();
  }, [props.title]);
  return (
    <section aria-labelledby="page-title" ref={section}>
      <h1 id="page-title" tabIndex={-1}>
        {props.title}
      </h1>
      {props.children}
    </section>
  );
}

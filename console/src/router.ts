/** Client-side routes under the console's base path (/console/): the server answers every
 * such path with index.html, so a reload or a shared link opens the same page. */
import { useEffect, useLayoutEffect, useState } from "preact/hooks";

const BASE = import.meta.env.BASE_URL.replace(/\/$/, ""); // "/console"

export function path(): string {
  const here = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return here.replace(/\/$/, "") || "/";
}

export function href(to: string): string {
  return BASE + to;
}

export function navigate(to: string, replace = false): void {
  const url = href(to);
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event("vo:navigate"));
}

export function useRoute(): string {
  const [route, setRoute] = useState(path());
  // a layout effect: listening before any child's effect can navigate (see Redirect)
  useLayoutEffect(() => {
    const update = () => setRoute(path());
    window.addEventListener("popstate", update);
    window.addEventListener("vo:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("vo:navigate", update);
    };
  }, []);
  return route;
}

/** A link that navigates without reloading (and still works opened in a new tab). */
export function onLink(event: MouseEvent, to: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}

/** Navigates once rendered (never during a render), replacing the current history entry. */
export function Redirect(props: { to: string }): null {
  useEffect(() => navigate(props.to, true), [props.to]);
  return null;
}

// Hash routes (#/segments/seg_1): the server serves one page at `/`, and no
// console path can ever shadow an API route.
import { useEffect, useState } from "react";

export type Route =
  | { page: "segments" }
  | { page: "newSegment" }
  | { page: "segment"; id: string }
  | { page: "editSegment"; id: string }
  | { page: "people"; params: URLSearchParams }
  | { page: "person"; cioId: string }
  | { page: "notFound" };

export function parseRoute(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#/, "").split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "segments")) return { page: "segments" };
  if (parts[0] === "segments" && parts[1] === "new" && parts.length === 2) return { page: "newSegment" };
  if (parts[0] === "segments" && parts.length === 2) return { page: "segment", id: parts[1] };
  if (parts[0] === "segments" && parts.length === 3 && parts[2] === "edit") return { page: "editSegment", id: parts[1] };
  if (parts[0] === "people" && parts.length === 1) return { page: "people", params: new URLSearchParams(query) };
  if (parts[0] === "people" && parts.length === 2) return { page: "person", cioId: parts[1] };
  return { page: "notFound" };
}

export function href(path: string, params?: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params ?? {})) if (value) query.set(name, value);
  const search = query.toString();
  return `#${path}${search ? `?${search}` : ""}`;
}

export function navigate(path: string, params?: Record<string, string | undefined>): void {
  location.hash = href(path, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", update);
    // A hash change between the first render and this effect fired no listener: read it now.
    update();
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

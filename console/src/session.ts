// The app API key lives in this tab's sessionStorage only: closing the tab signs out.
const KEY = "segments.appApiKey";

export function storedApiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeApiKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

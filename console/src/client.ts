import { Client, cacheExchange, fetchExchange } from "urql";

// One client per signed-in key. The document cache refetches a list when a
// mutation returns a type it holds, so a saved segment shows up at once.
export function makeClient(apiKey: string, onUnauthorized: () => void): Client {
  return new Client({
    url: "/graphql",
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: () => ({ headers: { Authorization: `Bearer ${apiKey}` } }),
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (response.status === 401) onUnauthorized();
      return response;
    },
  });
}

// What the server answers for a key: the workspace, or why not.
export async function checkApiKey(apiKey: string): Promise<{ workspace: { id: string; name: string } } | { error: string }> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query: "{ workspace { id name } }" }),
    });
  } catch {
    return { error: "The service cannot be reached. Is it running?" };
  }
  if (response.status === 401) {
    return {
      error:
        "This key was not accepted. Use the app API key of a workspace (appApiKey, starting with app_), not its track API key.",
    };
  }
  if (!response.ok) return { error: `The service answered ${response.status}. Try again.` };
  const body = await response.json();
  if (body.errors) return { error: body.errors[0].message };
  return { workspace: body.data.workspace };
}

// Downloads a CSV export (the key is a header, so a plain link cannot do it).
export async function downloadCsv(apiKey: string, path: string): Promise<{ error?: string }> {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${apiKey}` } });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    return { error: body?.errors?.[0]?.message ?? `The export failed (${response.status}).` };
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "export.csv";
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return {};
}

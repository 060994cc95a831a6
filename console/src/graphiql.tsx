// GraphiQL served from the service's own files (no CDN): self-hosted
// installations often have no internet access.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./graphiql.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { storedApiKey } from "./session";

const apiKey = storedApiKey();
const authorization = { Authorization: `Bearer ${apiKey ?? "<appApiKey>"}` };

// Signed in to the console in this tab: its key is the default header, and
// also the fetcher's own, so the schema loads before the editors exist (the
// Headers pane still wins). Browsers cannot set headers on websockets: the
// fetcher sends the Headers pane as the connection_init payload instead.
const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  subscriptionUrl: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
  headers: apiKey ? authorization : undefined,
});

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultHeaders={JSON.stringify(authorization, null, 2)} />
  </StrictMode>,
);

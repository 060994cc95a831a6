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

const websocketUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
const apiKey = storedApiKey();

const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  subscriptionUrl: websocketUrl,
  // Browsers cannot set headers on websockets: the key goes in connection_init.
  wsConnectionParams: apiKey ? { Authorization: `Bearer ${apiKey}` } : undefined,
});

// Signed in to the console in this tab: start with its key.
const defaultHeaders = JSON.stringify({ Authorization: `Bearer ${apiKey ?? "<appApiKey>"}` }, null, 2);

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultHeaders={defaultHeaders} />
  </StrictMode>,
);

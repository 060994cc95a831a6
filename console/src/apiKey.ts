import { createContext, useContext } from "react";

// The signed-in key, for the requests urql does not make (CSV downloads).
export const ApiKeyContext = createContext<string>("");
export const useApiKey = () => useContext(ApiKeyContext);

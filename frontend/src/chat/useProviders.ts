/**
 * Models the session's OpenCode offers (`GET /config/providers`) and its configured default
 * (`GET /config` `model`, "provider/model"), loaded once per workspace.
 */
import { useEffect, useState } from "react";
import { useChatStore } from "./ChatContext.tsx";
import type { Provider } from "./types.ts";

/** A model choice: provider and model ids. */
export interface ModelRef {
  providerID: string;
  modelID: string;
}

export interface ProvidersInfo {
  providers: Provider[];
  /** The model OpenCode uses when none is chosen, if it can be determined. */
  fallback: ModelRef | null;
  error: string | null;
}

/** Parses "provider/model" (the model id itself may contain slashes). */
export function parseModelRef(value: string | undefined): ModelRef | null {
  if (!value) return null;
  const i = value.indexOf("/");
  return i > 0 ? { providerID: value.slice(0, i), modelID: value.slice(i + 1) } : null;
}

/** The providers, the fallback model and any load error, for the session's OpenCode. */
export function useProviders(): ProvidersInfo {
  const { client } = useChatStore();
  const [info, setInfo] = useState<ProvidersInfo>({ providers: [], fallback: null, error: null });
  useEffect(() => {
    let cancelled = false;
    Promise.all([client.config.providers(), client.config.get().catch(() => null)]).then(
      ([providers, config]) => {
        if (cancelled) return;
        const list = providers.data?.providers ?? [];
        const configured = parseModelRef((config?.data as { model?: string } | undefined)?.model);
        const first = list[0];
        const firstDefault = first ? providers.data?.default?.[first.id] ?? Object.keys(first.models)[0] : undefined;
        const fallback = configured ?? (first && firstDefault ? { providerID: first.id, modelID: firstDefault } : null);
        setInfo({ providers: list, fallback, error: null });
      },
      (err) => !cancelled && setInfo((i) => ({ ...i, error: err instanceof Error ? err.message : String(err) })),
    );
    return () => {
      cancelled = true;
    };
  }, [client]);
  return info;
}

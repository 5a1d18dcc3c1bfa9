/** The model picked for an octo session, remembered in localStorage (`octo.model.<sessionId>`). */
import { useCallback, useState } from "react";
import { type ModelRef, parseModelRef } from "./useProviders.ts";

/** `[model, choose]`: the remembered model (null = OpenCode's default) and its setter. */
export function useModelChoice(sessionId: string): [ModelRef | null, (m: ModelRef) => void] {
  const key = `octo.model.${sessionId}`;
  const [model, setModel] = useState<ModelRef | null>(() => {
    try {
      return parseModelRef(localStorage.getItem(key) ?? undefined);
    } catch {
      return null;
    }
  });
  const choose = useCallback(
    (m: ModelRef) => {
      setModel(m);
      try {
        localStorage.setItem(key, `${m.providerID}/${m.modelID}`);
      } catch {
        // storage disabled: remembered for this page only
      }
    },
    [key],
  );
  return [model, choose];
}

/**
 * Admin: which LLM providers and models one user may use (`/api/admin/users/:id/llm-access`), in a dialog
 * opened from Users. "Every provider" / "every model" store null (also those added later); otherwise the
 * ticked ones. Applies to every request of the user's sessions and to the models sessions started
 * afterwards are offered.
 */
import { useEffect, useId, useState } from "react";
import { api, type LlmAccessRules } from "../lib/api.ts";
import type { User } from "../lib/types.ts";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { useModalDialog } from "../ui/useModalDialog.ts";

type Provider = Awaited<ReturnType<typeof api.admin.providers>>["providers"][number];

/** Adds or removes `value` from `list`. */
const toggle = (list: string[], value: string, on: boolean) => (on ? [...new Set([...list, value])] : list.filter((v) => v !== value));

/** The dialog for `user` (closed while null). */
export function LlmAccessDialog({ user, onClose }: { user: User | null; onClose: () => void }) {
  const ref = useModalDialog(user !== null);
  const titleId = useId();
  const [providers, setProviders] = useState<Provider[]>([]);
  const [rules, setRules] = useState<LlmAccessRules | null>(null);
  const [saved, setSaved] = useState(false);
  const action = useAsyncAction();

  useEffect(() => {
    setRules(null);
    setSaved(false);
    if (!user) return;
    void action.run(async () => {
      const [list, access] = await Promise.all([api.admin.providers(), api.admin.llmAccess(user.id)]);
      setProviders(list.providers);
      setRules(access);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [user]);

  const allowedProviders = providers.filter((p) => !rules?.providers || rules.providers.includes(p.id));
  const save = () =>
    user && rules && void action.run(async () => {
      setRules(await api.admin.setLlmAccess(user.id, rules));
      setSaved(true);
    });

  return (
    <dialog ref={ref} className="dialog dialog-wide llm-access" aria-labelledby={titleId} onClose={onClose} onClick={(e) => e.target === ref.current && onClose()}>
      {user ? (
        <div className="dialog-body">
          <h2 id={titleId}>Models {user.username} may use</h2>
          {rules ? (
            <>
              <fieldset>
                <legend>Providers</legend>
                <label className="checkbox">
                  <input type="checkbox" checked={rules.providers === null} onChange={(e) => setRules({ ...rules, providers: e.target.checked ? null : providers.map((p) => p.id) })} /> Every provider
                  (also ones added later)
                </label>
                {rules.providers === null
                  ? null
                  : providers.map((p) => (
                      <label key={p.id} className="checkbox">
                        <input type="checkbox" checked={rules.providers!.includes(p.id)} onChange={(e) => setRules({ ...rules, providers: toggle(rules.providers!, p.id, e.target.checked) })} /> {p.id}
                      </label>
                    ))}
              </fieldset>
              <fieldset>
                <legend>Models</legend>
                <label className="checkbox">
                  <input
                    type="checkbox"
                    checked={rules.models === null}
                    onChange={(e) => setRules({ ...rules, models: e.target.checked ? null : allowedProviders.flatMap((p) => p.models.map((m) => `${p.id}/${m}`)) })}
                  />{" "}
                  Every model of those providers
                </label>
                {rules.models === null
                  ? null
                  : allowedProviders.flatMap((p) =>
                      p.models.map((m) => {
                        const id = `${p.id}/${m}`;
                        return (
                          <label key={id} className="checkbox">
                            <input type="checkbox" checked={rules.models!.includes(id)} onChange={(e) => setRules({ ...rules, models: toggle(rules.models!, id, e.target.checked) })} /> {id}
                          </label>
                        );
                      }),
                    )}
              </fieldset>
              {providers.length === 0 ? <p className="muted small">No provider is configured yet (Providers tab).</p> : null}
            </>
          ) : null}
          {saved ? <p className="small">Saved. Applies to the next request of {user.username}'s sessions.</p> : null}
          {action.error ? <p className="error-text">{action.error}</p> : null}
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={onClose}>
              Close
            </button>
            <button type="button" className="btn btn-primary" disabled={action.busy || !rules} onClick={save}>
              Save access
            </button>
          </div>
        </div>
      ) : null}
    </dialog>
  );
}

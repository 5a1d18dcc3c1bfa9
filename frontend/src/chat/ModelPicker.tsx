/** Model selector for the composer, grouped by provider; the choice is remembered per octo session. */
import type { ProvidersInfo, ModelRef } from "./useProviders.ts";

const key = (m: ModelRef) => `${m.providerID}/${m.modelID}`;

/** A `<select>` of every model of every provider; shows OpenCode's default until one is chosen. */
export function ModelPicker({ info, value, onChange }: { info: ProvidersInfo; value: ModelRef | null; onChange: (m: ModelRef) => void }) {
  const current = value ?? info.fallback;
  if (info.providers.length === 0) return null;
  return (
    <select
      className="select model-picker"
      aria-label="Model"
      value={current ? key(current) : ""}
      onChange={(e) => {
        const [providerID, ...rest] = e.target.value.split("/");
        onChange({ providerID: providerID!, modelID: rest.join("/") });
      }}
    >
      {info.providers.map((p) => (
        <optgroup key={p.id} label={p.name}>
          {Object.values(p.models).map((m) => (
            <option key={m.id} value={`${p.id}/${m.id}`}>
              {m.name || m.id}
            </option>
          ))}
        </optgroup>
      ))}
    </select>
  );
}

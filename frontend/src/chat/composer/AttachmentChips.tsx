/** The composer's attachments as removable chips: mentioned files by path, uploads by name (images previewed). */
import { Icon } from "../../ui/Icon.tsx";
import type { Attachment } from "./attachments.ts";

export function AttachmentChips({ items, onRemove }: { items: Attachment[]; onRemove: (id: string) => void }) {
  if (items.length === 0) return null;
  return (
    <ul className="attachment-chips" aria-label="Attachments">
      {items.map((a) => (
        <li key={a.id} className={`chip chip-${a.kind}`} title={a.name}>
          {a.mime.startsWith("image/") ? <img className="chip-preview" src={a.url} alt={`Preview of ${a.name}`} /> : <Icon name="file" size={13} />}
          <span className="ellipsis">{a.kind === "mention" ? `@${a.name}` : a.name}</span>
          <button type="button" className="chip-remove" aria-label={`Remove ${a.name}`} onClick={() => onRemove(a.id)}>
            <Icon name="x" size={11} />
          </button>
        </li>
      ))}
    </ul>
  );
}

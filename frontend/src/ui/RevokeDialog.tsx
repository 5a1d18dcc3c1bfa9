/**
 * The confirmation before revoking one item of a list (an invite code, an access token): on confirm,
 * `revoke` answers the updated item, which replaces the old one in the list through `set`.
 */
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { ConfirmDialog } from "./ConfirmDialog.tsx";

export function RevokeDialog<T extends { id: string }>({
  item,
  title,
  revoke,
  set,
  onClose,
  children,
}: {
  item: T | null;
  title: string;
  revoke: (id: string) => Promise<T>;
  set: Dispatch<SetStateAction<T[] | undefined>>;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <ConfirmDialog
      open={item !== null}
      title={title}
      confirmLabel="Revoke"
      danger
      onClose={onClose}
      onConfirm={async () => {
        if (!item) return;
        const updated = await revoke(item.id);
        set((list) => list?.map((x) => (x.id === updated.id ? updated : x)));
      }}
    >
      <p className="muted">{children}</p>
    </ConfirmDialog>
  );
}

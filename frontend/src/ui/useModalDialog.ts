/**
 * Opens and closes a `<dialog>` as a modal following `open`, calling `onOpen` each time it opens
 * (to reset the form). Answers the ref to put on the dialog.
 */
import { useEffect, useRef } from "react";

/** The ref for a `<dialog>` shown modally while `open` is true. */
export function useModalDialog(open: boolean, onOpen?: () => void) {
  const ref = useRef<HTMLDialogElement>(null);
  const onOpenRef = useRef(onOpen);
  onOpenRef.current = onOpen;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      onOpenRef.current?.();
      dialog.showModal();
    } else if (!open && dialog.open) dialog.close();
  }, [open]);
  return ref;
}

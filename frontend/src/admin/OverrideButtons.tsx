/** The two buttons of a per-session override form: save it (the form's submit) and go back to the server's setting. */
export function OverrideButtons({ saveLabel, busy, overridden, onUseServer }: { saveLabel: string; busy: boolean; overridden: boolean; onUseServer: () => void }) {
  return (
    <>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {saveLabel}
      </button>
      <button type="button" className="btn" disabled={busy || !overridden} onClick={onUseServer}>
        Use server's
      </button>
    </>
  );
}

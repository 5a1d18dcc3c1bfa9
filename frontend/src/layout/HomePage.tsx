/** `/` on a wide screen: a welcome that points at the sidebar. */
import { useSessions } from "../sessions/SessionsContext.tsx";
import { BrandMark } from "./BrandMark.tsx";

/** The welcome shown at `/` next to the sidebar. */
export function HomePage() {
  const { sessions } = useSessions();
  return (
    <div className="empty home">
      <BrandMark size={48} />
      <h2>{sessions && sessions.length > 0 ? "Pick a session" : "Create your first session"}</h2>
      <p>
        Each session is a workspace with its own OpenCode agent, files and terminal.
        <br />
        {sessions && sessions.length > 0 ? "Choose one on the left, or name a new one." : "Give it a name in the sidebar and press +."}
      </p>
    </div>
  );
}

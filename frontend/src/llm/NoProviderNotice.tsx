/**
 * Shown before the first prompt when no LLM provider reaches this session (octo's gateway has none for this
 * person and OpenCode's own config names none but its hosted default, which octo servers usually cannot
 * reach): admins get a link to Admin -> Providers, others a line asking their admin.
 */
import { useUser } from "../auth/AuthContext.tsx";
import { navigate } from "../lib/router.ts";
import { Icon } from "../ui/Icon.tsx";

export function NoProviderNotice() {
  const user = useUser();
  return (
    <div className="banner warning no-provider" role="status">
      <Icon name="alert" size={14} />
      <span>
        No LLM provider is configured, so the agent cannot answer yet.{" "}
        {user.role === "admin" ? (
          <a
            href="/admin?tab=providers"
            onClick={(e) => {
              e.preventDefault();
              navigate("/admin?tab=providers");
            }}
          >
            Add a provider
          </a>
        ) : (
          "Ask your octo admin to add one."
        )}
      </span>
    </div>
  );
}

/** The header of a full page (admin, settings): a back button on phones, the icon and title, then `children`. */
import type { ReactNode } from "react";
import { navigate } from "../lib/router.ts";
import { Icon, type IconName } from "../ui/Icon.tsx";

export function PageHeader({ icon, title, children }: { icon: IconName; title: string; children?: ReactNode }) {
  return (
    <header className="admin-header">
      <button type="button" className="btn btn-ghost btn-icon phone-only" aria-label="Back" onClick={() => navigate("/")}>
        <Icon name="chevronLeft" />
      </button>
      <h1>
        <Icon name={icon} size={18} /> {title}
      </h1>
      {children}
    </header>
  );
}

/** The header of a full page (admin, settings, tasks): its title, a back button on phones, and extras. */
import type { ReactNode } from "react";
import { navigate } from "../lib/router.ts";
import { Icon } from "./Icon.tsx";

export function PageHeader({ children, extra }: { children: ReactNode; extra?: ReactNode }) {
  return (
    <header className="admin-header">
      <button type="button" className="btn btn-ghost btn-icon phone-only" aria-label="Back" onClick={() => navigate("/")}>
        <Icon name="chevronLeft" />
      </button>
      <h1>{children}</h1>
      {extra}
    </header>
  );
}

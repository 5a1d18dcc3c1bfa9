/** Entry point: styles, providers, and the app. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { AuthProvider } from "./auth/AuthContext.tsx";
import "./styles/theme.css";
import "./styles/base.css";
import "./styles/layout.css";
import "./styles/auth.css";
import "./styles/sessions.css";
import "./styles/chat.css";
import "./styles/composer.css";
import "./styles/markdown.css";
import "./styles/files.css";
import "./styles/changes.css";
import "./styles/terminal.css";
import "./styles/admin.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <AuthProvider>
      <App />
    </AuthProvider>
  </StrictMode>,
);

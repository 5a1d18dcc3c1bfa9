/**
 * Sign in / register. `/register?invite=CODE` (or `?code=`) opens the register tab with the code filled
 * in. Errors from the server (`{ error }`) are shown in place, next to the form.
 */
import { type FormEvent, useState } from "react";
import { navigate, queryParam } from "../lib/router.ts";
import { useAuth } from "./AuthContext.tsx";
import { BrandMark } from "../layout/BrandMark.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";

type Mode = "login" | "register";

/** The sign-in / register card; `initialMode` comes from the route (`/login` or `/register`). */
export function AuthPage({ initialMode }: { initialMode: Mode }) {
  const { login, register } = useAuth();
  const [mode, setMode] = useState<Mode>(initialMode);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [invite, setInvite] = useState(() => queryParam("invite") ?? queryParam("code") ?? "");
  const [email, setEmail] = useState("");
  const { busy, error, setError, run } = useAsyncAction();

  const switchTo = (next: Mode) => {
    setMode(next);
    setError(null);
    navigate(next === "login" ? "/login" : "/register", { replace: true });
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      if (mode === "login") await login(username.trim(), password);
      else await register({ username: username.trim(), password, invite_code: invite.trim(), email: email.trim() || undefined });
      if (location.pathname === "/login" || location.pathname === "/register") navigate("/", { replace: true });
    });
  };

  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="auth-brand">
          <BrandMark size={36} />
          <h1>octo</h1>
          <p className="muted">AI coding agents, on your own server.</p>
        </div>
        <div className="segmented" role="tablist">
          <button type="button" role="tab" aria-selected={mode === "login"} onClick={() => switchTo("login")}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === "register"} onClick={() => switchTo("register")}>
            Register
          </button>
        </div>
        <form onSubmit={submit} aria-label={mode === "login" ? "Sign in" : "Register"}>
          <label className="field">
            <span>Username</span>
            <input className="input" name="username" autoComplete="username" autoCapitalize="none" spellCheck={false} required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
          </label>
          <label className="field">
            <span>Password</span>
            <input
              className="input"
              name="password"
              type="password"
              autoComplete={mode === "login" ? "current-password" : "new-password"}
              minLength={mode === "register" ? 8 : undefined}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {mode === "register" ? (
            <>
              <label className="field">
                <span>Invite code</span>
                <input className="input mono" name="invite_code" autoComplete="off" spellCheck={false} required value={invite} onChange={(e) => setInvite(e.target.value)} />
              </label>
              <label className="field">
                <span>
                  Email <span className="muted">(optional)</span>
                </span>
                <input className="input" name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
              </label>
              <p className="muted small">3–32 characters: lowercase letters, digits, - and _. Password at least 8 characters.</p>
            </>
          ) : null}
          {error ? (
            <p className="error-text" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" className="btn btn-primary auth-submit" disabled={busy}>
            {busy ? <span className="spinner" /> : null}
            {mode === "login" ? "Sign in" : "Create account"}
          </button>
        </form>
      </div>
    </main>
  );
}

/**
 * Pure decisions of the web app server: how long a file may be cached, whether a request may fall back to
 * `index.html` (client-side routes), and whether a path belongs to the server rather than the app.
 */

/**
 * The Content-Security-Policy of the web app (https://www.w3.org/TR/CSP3/): scripts only from octo's own
 * files (no inline script, no `eval`, no other origin), nothing may frame the app (clickjacking), no plugins,
 * no `<base>` rewriting, forms post only to octo. Styles allow `'unsafe-inline'` because xterm.js writes its
 * theme into `<style>` elements; images allow `data:` and `blob:` (pasted attachments, previews).
 * `connect-src 'self'` covers same-origin WebSockets (CSP3 matches `ws:`/`wss:` for `'self'`).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

/** Headers on every answer of the web app (files, `index.html`, the not-built page). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

/** Hashed, content-addressed build output (Vite's `assets/` directory). */
export const IMMUTABLE_PREFIX = "/assets/";

/** `Cache-Control` for a served file: hashed assets forever, everything else revalidated each time. */
export function cacheControl(urlPath: string): string {
  return urlPath.startsWith(IMMUTABLE_PREFIX) ? "public, max-age=31536000, immutable" : "no-cache";
}

/** Paths owned by the API and the session proxy: never answered with the app, 404s stay JSON. */
export function isServerPath(urlPath: string): boolean {
  return urlPath === "/api" || urlPath.startsWith("/api/") || urlPath === "/session" || urlPath.startsWith("/session/");
}

/**
 * Whether a missing path should get `index.html`: a browser navigation (Accept mentions text/html) to
 * something that is not a server path, not under `/assets/`, and does not look like a file (no extension
 * in its last segment).
 */
export function wantsSpaFallback(urlPath: string, accept: string | null): boolean {
  if (isServerPath(urlPath) || urlPath.startsWith(IMMUTABLE_PREFIX)) return false;
  if (!accept?.includes("text/html")) return false;
  const last = urlPath.slice(urlPath.lastIndexOf("/") + 1);
  return !/\.[A-Za-z0-9]{1,8}$/.test(last);
}

/** Content types worth gzipping (text); images and fonts are already compressed. */
export function isCompressible(contentType: string): boolean {
  return /^(text\/|application\/(javascript|json|xml|manifest\+json)|image\/svg\+xml)/.test(contentType);
}

/**
 * Normalizes a request path for lookup: decoded, `/` -> `/index.html`. Returns null for anything that
 * could escape the build directory (`..` segments, backslashes, NUL) or that fails to decode.
 */
export function normalizeAssetPath(pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  if (decoded.split("/").some((segment) => segment === ".." || segment === ".")) return null;
  if (decoded === "/" || decoded === "") return "/index.html";
  return decoded.startsWith("/") ? decoded : `/${decoded}`;
}

/** What kind of viewer a file gets, from its name (pure). */

const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp|ico|avif)$/i;

/** Languages highlight.js knows under another name than the file extension. */
const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  py: "python",
  rb: "ruby",
  rs: "rust",
  md: "markdown",
  yml: "yaml",
  sh: "bash",
  zsh: "bash",
  h: "c",
  hpp: "cpp",
  cc: "cpp",
  kt: "kotlin",
  toml: "ini",
  html: "xml",
  htm: "xml",
  svg: "xml",
  vue: "xml",
  dockerfile: "dockerfile",
  makefile: "makefile",
};

/** Whether the file is shown as an image. */
export function isImage(name: string): boolean {
  return IMAGE.test(name);
}

/** A highlight.js language name for the file, or null for plain text. */
export function languageFor(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower === "dockerfile" || lower === "makefile") return LANGUAGE_BY_EXTENSION[lower]!;
  const dot = lower.lastIndexOf(".");
  if (dot < 0) return null;
  const ext = lower.slice(dot + 1);
  return LANGUAGE_BY_EXTENSION[ext] ?? ext;
}

/** Whether the bytes look binary (a NUL in the first 8 KiB, as git decides). */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

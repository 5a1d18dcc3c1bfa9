/**
 * Content types for served files, from the file name alone (no sniffing).
 *
 * Bun's table (`Bun.file(path).type`) covers the web formats; it misnames some source files (`.rs` as
 * `application/rls-services+xml`, `.py` and `.go` as octet-stream), so common source and config files are
 * served as UTF-8 text here. Unknown names are `application/octet-stream`.
 */
import { basename, extname } from "node:path";

const TEXT = "text/plain; charset=utf-8";

const TEXT_EXTENSIONS = new Set(
  (
    "py pyi rs go java kt kts scala rb php pl lua r swift c h cc cpp cxx hpp hh cs fs ex exs erl hs ml clj " +
    "dart zig nim vue svelte astro sh bash zsh fish ps1 bat sql graphql gql proto prisma toml ini cfg conf " +
    "env lock log diff patch gitignore gitattributes dockerignore editorconfig npmrc jsonl ndjson tsv " +
    "rst adoc tex"
  ).split(" "),
);

const TEXT_NAMES = new Set(["Makefile", "Dockerfile", "Containerfile", "LICENSE", "Gemfile", "Procfile", "Rakefile"]);

/** The `Content-Type` for a file named `path` (only the name is looked at). */
export function contentTypeFor(path: string): string {
  const name = basename(path);
  const ext = extname(name).slice(1).toLowerCase() || (name.startsWith(".") ? name.slice(1).toLowerCase() : "");
  if (TEXT_NAMES.has(name) || TEXT_EXTENSIONS.has(ext)) return TEXT;
  return Bun.file(path).type || "application/octet-stream";
}

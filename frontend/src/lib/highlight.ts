/**
 * Syntax colouring with highlight.js (its "common" set of 37 languages, picked by name, no auto-detection):
 * for the file viewer (whole files), diffs (line by line) and the chat's fenced code.
 *
 * Languages are registered on first use, not when the app loads: `highlight.js/lib/common` runs all 37
 * language definitions at import (40-80 ms of the main thread in the chat's first render, bench/chat.ts
 * with `BENCH_PROFILE=slices`). A language is registered with the ones its grammar embeds (`subLanguage`:
 * HTML's `<script>` and `<style>`, the template tags of JavaScript and TypeScript, a shell session's
 * commands), so the colouring is the same as with everything registered. A name that is neither a
 * language of the set nor one of the usual aliases below registers the whole set once and asks again
 * (highlight.js knows the aliases only from the registered definitions).
 */
import core from "highlight.js/lib/core";
import type { LanguageFn } from "highlight.js";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import graphql from "highlight.js/lib/languages/graphql";
import ini from "highlight.js/lib/languages/ini";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import kotlin from "highlight.js/lib/languages/kotlin";
import less from "highlight.js/lib/languages/less";
import lua from "highlight.js/lib/languages/lua";
import makefile from "highlight.js/lib/languages/makefile";
import markdown from "highlight.js/lib/languages/markdown";
import objectivec from "highlight.js/lib/languages/objectivec";
import perl from "highlight.js/lib/languages/perl";
import php from "highlight.js/lib/languages/php";
import phpTemplate from "highlight.js/lib/languages/php-template";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import pythonRepl from "highlight.js/lib/languages/python-repl";
import r from "highlight.js/lib/languages/r";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import scss from "highlight.js/lib/languages/scss";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import vbnet from "highlight.js/lib/languages/vbnet";
import wasm from "highlight.js/lib/languages/wasm";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { languageFor } from "../files/fileKinds.ts";

/** Largest text coloured, characters (beyond, plain text). */
const MAX_CHARS = 300_000;

/** highlight.js's common set (highlight.js/lib/common.js), by the names it registers them under. */
const LANGUAGES: Record<string, LanguageFn> = {
  xml, bash, c, cpp, csharp, css, markdown, diff, ruby, go, graphql, ini, java, javascript, json, kotlin, less,
  lua, makefile, perl, objectivec, php, "php-template": phpTemplate, plaintext, python, "python-repl": pythonRepl,
  r, rust, scss, shell, sql, swift, yaml, typescript, vbnet, wasm,
};

/** The languages each grammar embeds through `subLanguage` (read from highlight.js 11's definitions). */
const EMBEDS: Record<string, string[]> = {
  xml: ["css", "javascript"],
  markdown: ["xml"],
  "php-template": ["xml", "php"],
  "python-repl": ["python"],
  shell: ["bash"],
  javascript: ["xml", "css", "graphql"],
  typescript: ["xml", "css", "graphql"],
  yaml: ["ruby"],
};

/** Aliases code fences use most, to their language (the rest are found by registering everything). */
const ALIASES: Record<string, string> = {
  sh: "bash", zsh: "bash", console: "shell", "shell-session": "shell", html: "xml", svg: "xml", ts: "typescript",
  tsx: "typescript", js: "javascript", jsx: "javascript", mjs: "javascript", py: "python", rb: "ruby", rs: "rust",
  golang: "go", yml: "yaml", md: "markdown", toml: "ini", "c++": "cpp", h: "c", hpp: "cpp", cs: "csharp",
  kt: "kotlin", patch: "diff", text: "plaintext", txt: "plaintext",
};

/** A highlighter: its own highlight.js instance, languages registered on first use. */
export interface Highlighter {
  /** The highlight.js language for a file name, when highlight.js has it; else null. */
  highlightLanguage(name: string): string | null;
  /** `text` as highlight.js HTML (escaped, with `hljs-*` spans), or null for plain text or an unknown language. */
  highlighted(text: string, language: string | null): string | null;
  /** The languages registered so far (highlight.js names), for tests and diagnostics. */
  registered(): string[];
}

/**
 * A new {@link Highlighter} with nothing registered (the app uses one, below; tests make their own). Its
 * highlight.js instance is its own, not the package's shared one, which importing highlight.js/lib/common fills.
 */
export function createHighlighter(): Highlighter {
  const hljs = core.newInstance();
  let everything = false;
  const register = (name: string): void => {
    if (hljs.getLanguage(name)) return;
    hljs.registerLanguage(name, LANGUAGES[name]!);
    for (const embedded of EMBEDS[name] ?? []) register(embedded);
  };
  /** The registered highlight.js name for `name` (a language or an alias), registering it first; null if unknown. */
  const resolved = (name: string): string | null => {
    const lower = name.toLowerCase();
    const canonical = LANGUAGES[lower] ? lower : ALIASES[lower];
    if (canonical) {
      register(canonical);
      return canonical;
    }
    if (hljs.getLanguage(lower)) return lower;
    if (everything) return null;
    everything = true;
    for (const language of Object.keys(LANGUAGES)) register(language);
    return hljs.getLanguage(lower) ? lower : null;
  };
  return {
    highlightLanguage(name) {
      const language = languageFor(name.slice(name.lastIndexOf("/") + 1));
      return language ? resolved(language) : null;
    },
    highlighted(text, language) {
      if (!language || text.length > MAX_CHARS) return null;
      const name = resolved(language);
      if (!name) return null;
      try {
        return hljs.highlight(text, { language: name, ignoreIllegals: true }).value;
      } catch {
        return null;
      }
    },
    registered: () => hljs.listLanguages(),
  };
}

const app = createHighlighter();

/** {@link Highlighter.highlightLanguage} of the app's highlighter. */
export const highlightLanguage = (name: string): string | null => app.highlightLanguage(name);

/** {@link Highlighter.highlighted} of the app's highlighter. */
export const highlighted = (text: string, language: string | null): string | null => app.highlighted(text, language);

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import core from "highlight.js/lib/core";
import { createHighlighter, highlighted, highlightLanguage } from "../../../../frontend/src/lib/highlight.ts";

const REPO = join(import.meta.dir, "../../../..");

/** The reference: a highlight.js instance with every language of `highlight.js/lib/common`, as the app had. */
async function commonInstance() {
  const source = readFileSync(join(REPO, "node_modules/highlight.js/lib/common.js"), "utf8");
  const names = [...source.matchAll(/registerLanguage\('([^']+)', require\('\.\/languages\/([^']+)'\)\)/g)].map((m) => [m[1]!, m[2]!] as const);
  expect(names.length).toBeGreaterThan(30);
  const reference = core.newInstance();
  for (const [name, file] of names) reference.registerLanguage(name, (await import(`highlight.js/lib/languages/${file}`)).default);
  return { reference, names: names.map(([name]) => name) };
}

const SAMPLES: Record<string, string> = {
  typescript: "const html = `<b>${x}</b>`;\nexport function f(a: number): string { return css`color: red`; }\n",
  xml: "<html><style>p { color: red }</style><script>const a = 1 + 2;</script><p class=\"x\">hi</p></html>",
  shell: "$ ls -la /tmp\n$ echo \"$HOME\" | wc -c\n",
  "python-repl": ">>> def f(x):\n...     return x * 2\n>>> f(3)\n6\n",
  markdown: "# Title\n\n<div>html</div>\n\n```js\nlet a = 1;\n```\n",
  "php-template": "<p><?php echo $name; ?></p>",
  yaml: "a: 1\nb: <%= value %>\nlist:\n  - x\n",
};

describe("highlighted", () => {
  test("registers nothing until a language is asked for, then only it and what its grammar embeds", () => {
    const h = createHighlighter();
    expect(h.registered()).toEqual([]);
    expect(h.highlighted("let a = 1;", "ts")).toContain("hljs-keyword");
    expect(h.registered().sort()).toEqual(["css", "graphql", "javascript", "typescript", "xml"]);
    expect(h.highlighted("echo hi", "sh")).toContain("hljs-built_in");
    expect(h.registered()).toContain("bash");
    expect(h.registered()).not.toContain("python");
    expect(h.highlightLanguage("README.md")).toBe("markdown");
    expect(h.registered()).toContain("markdown");
  });

  test("colours every language and alias of the common set exactly as highlight.js/lib/common did", async () => {
    const { reference, names } = await commonInstance();
    const sample = (name: string) => SAMPLES[name] ?? "function main() { return 42; } // comment\n\"a string\" if else x = 1\n";
    for (const name of names) {
      // A highlighter of its own per language: only it and what it embeds are registered.
      expect({ name, html: createHighlighter().highlighted(sample(name), name) }).toEqual({ name, html: reference.highlight(sample(name), { language: name, ignoreIllegals: true }).value });
    }
    // Aliases the fences and file names use, and ones only the definitions know ("golang" is in ours, "cc" is not).
    for (const alias of ["ts", "tsx", "js", "jsx", "sh", "zsh", "console", "py", "rb", "rs", "golang", "yml", "html", "c++", "cc", "hpp", "kt", "gyp"]) {
      const expected = reference.getLanguage(alias) ? reference.highlight("let x = 1 # y", { language: alias, ignoreIllegals: true }).value : null;
      expect({ alias, html: highlighted("let x = 1 # y", alias) }).toEqual({ alias, html: expected });
    }
  });

  test("unknown languages and oversized text stay plain", () => {
    expect(highlighted("x", "no-such-language")).toBeNull();
    expect(highlighted("x", null)).toBeNull();
    expect(highlighted("a".repeat(300_001), "typescript")).toBeNull();
  });
});

describe("highlightLanguage", () => {
  test("picks the language by file name, null for what highlight.js does not know", () => {
    expect(highlightLanguage("src/app.tsx")).toBe("typescript");
    expect(highlightLanguage("docs/page.html")).toBe("xml");
    expect(highlightLanguage("Makefile")).toBe("makefile");
    expect(highlightLanguage("main.go")).toBe("go");
    expect(highlightLanguage("Dockerfile")).toBeNull();
    expect(highlightLanguage("notes")).toBeNull();
  });
});

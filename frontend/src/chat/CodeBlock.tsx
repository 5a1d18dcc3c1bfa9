/**
 * A fenced code block from markdown: language label and a copy button over the `<pre>`, coloured by the
 * app's one highlight.js instance (`lib/highlight.ts`, common languages, only when the fence names one:
 * no auto-detection, so prose in unlabelled blocks is left alone). The colouring is memoized on the code,
 * so a message streaming below it does not colour it again.
 */
import { Children, isValidElement, type ReactNode, useMemo, useRef, useState } from "react";
import { highlighted } from "../lib/highlight.ts";
import { Icon } from "../ui/Icon.tsx";

/** The `<code>` child react-markdown renders inside `<pre>`: its language (from `language-X`) and text. */
function codeOf(children: ReactNode): { language: string | null; text: string | null } {
  const child = Children.toArray(children)[0];
  if (!isValidElement<{ className?: string; children?: ReactNode }>(child)) return { language: null, text: null };
  const language = /language-([\w+#-]+)/.exec(child.props.className ?? "")?.[1] ?? null;
  const text = typeof child.props.children === "string" ? child.props.children : null;
  return { language, text };
}

/** Wraps the `<code>` react-markdown renders inside `<pre>`. */
export function CodeBlock({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const { language, text } = codeOf(children);
  const html = useMemo(() => (text === null ? null : highlighted(text, language)), [text, language]);
  const copy = async () => {
    await navigator.clipboard.writeText(ref.current?.innerText ?? "");
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div className="code-block">
      <div className="code-block-bar">
        <span>{language ?? "text"}</span>
        <button type="button" className="btn btn-ghost btn-sm" onClick={copy} aria-label="Copy code">
          <Icon name={copied ? "check" : "copy"} size={13} /> {copied ? "Copied" : "Copy"}
        </button>
      </div>
      {/* highlight.js output is escaped HTML with `hljs-*` spans only. */}
      <pre ref={ref}>{html === null ? children : <code className={`hljs language-${language}`} dangerouslySetInnerHTML={{ __html: html }} />}</pre>
    </div>
  );
}

/** A fenced code block from markdown: language label and a copy button over the highlighted `<pre>`. */
import { Children, isValidElement, type ReactNode, useRef, useState } from "react";
import { Icon } from "../ui/Icon.tsx";

function languageOf(children: ReactNode): string | null {
  const child = Children.toArray(children)[0];
  if (!isValidElement<{ className?: string }>(child)) return null;
  const match = /language-([\w+#-]+)/.exec(child.props.className ?? "");
  return match?.[1] ?? null;
}

/** Wraps the `<code>` react-markdown renders inside `<pre>`. */
export function CodeBlock({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const language = languageOf(children);
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
      <pre ref={ref}>{children}</pre>
    </div>
  );
}

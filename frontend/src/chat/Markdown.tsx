/**
 * Markdown as OpenCode writes it: GitHub-flavoured (tables, task lists, strikethrough, autolinks) with
 * highlight.js colouring for fenced code ({@link CodeBlock}). Raw HTML in the text is not rendered
 * (react-markdown's default), and links open in a new tab.
 */
import { memo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import { CodeBlock } from "./CodeBlock.tsx";

const components: Components = {
  pre: ({ children }) => <CodeBlock>{children}</CodeBlock>,
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  ),
};

const remarkPlugins = [remarkGfm];

/** Renders `text`; memoized so unchanged parts are not re-parsed while another part streams. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});

/**
 * Markdown as OpenCode writes it: GitHub-flavoured (tables, task lists, strikethrough, autolinks) with
 * highlight.js colouring for fenced code ({@link CodeBlock}). Raw HTML in the text is not rendered
 * (react-markdown's default), and links open in a new tab.
 */
import { memo, useDeferredValue } from "react";
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

/** The parsed and rendered text: memoized on the text, so it is parsed only when the text is new. */
const MarkdownBody = memo(function MarkdownBody({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={remarkPlugins} components={components}>
      {text}
    </ReactMarkdown>
  );
});

/**
 * Renders `text`; memoized so unchanged parts are not re-parsed while another part streams. A streaming
 * part's new text is parsed in a deferred render (`useDeferredValue`): the frame that applies a delta is
 * not held up by re-parsing the whole answer, React parses in the background, yielding to scrolling and
 * typing, and skips to the newest text when deltas come faster than it parses. The first render is not
 * deferred.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const shown = useDeferredValue(text);
  return (
    <div className="markdown">
      <MarkdownBody text={shown} />
    </div>
  );
});

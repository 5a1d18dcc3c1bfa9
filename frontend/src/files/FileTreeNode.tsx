/** One row of the file tree (and, for an expanded directory, its children), with hover actions. */
import { formatBytes } from "../lib/format.ts";
import { Icon } from "../ui/Icon.tsx";
import type { TreeEntry } from "./filesApi.ts";
import type { FileTree } from "./useFileTree.ts";

/** What a row's action buttons ask the panel to do. */
export interface TreeActions {
  /** Click on a row: a folder is selected and toggled, a file selected and opened. */
  open(entry: TreeEntry): void;
  rename(entry: TreeEntry): void;
  /** Attaches a file to the chat's prompt as an `@` mention. */
  mention(entry: TreeEntry): void;
  remove(entry: TreeEntry): void;
  downloadUrl(entry: TreeEntry): string;
}

/** One entry at nesting `depth`, recursing into its children when it is an expanded folder. */
export function FileTreeNode({ entry, depth, tree, selected, actions }: {
  entry: TreeEntry;
  depth: number;
  tree: FileTree;
  selected: string | null;
  actions: TreeActions;
}) {
  const isDir = entry.type === "directory";
  const open = isDir && tree.expanded.has(entry.path);
  const children = open ? tree.listings[entry.path] : undefined;
  return (
    <li role="treeitem" aria-expanded={isDir ? open : undefined} aria-selected={selected === entry.path}>
      <div className={selected === entry.path ? "tree-row selected" : "tree-row"} style={{ paddingLeft: 8 + depth * 14 }}>
        <button
          type="button"
          className="tree-name"
          title={entry.path}
          onClick={() => actions.open(entry)}
        >
          <span className="tree-chevron">{isDir ? <Icon name={open ? "chevronDown" : "chevronRight"} size={12} /> : null}</span>
          <Icon name={isDir ? "folder" : "file"} size={14} className={isDir ? "icon-folder" : "icon-file"} />
          <span className="tree-label">{entry.name}</span>
          {entry.type === "symlink" ? <span className="muted small">→</span> : null}
          {tree.loading.has(entry.path) ? <span className="spinner" /> : null}
        </button>
        <span className="tree-size muted">{isDir ? "" : formatBytes(entry.size)}</span>
        <span className="tree-actions">
          <a className="btn btn-ghost btn-sm btn-icon" href={actions.downloadUrl(entry)} download aria-label={`Download ${entry.name}`} title={isDir ? "Download as zip" : "Download"}>
            <Icon name="download" size={13} />
          </a>
          {entry.type === "file" ? (
            <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label={`Mention ${entry.name} in the chat`} title="Mention in the chat" onClick={() => actions.mention(entry)}>
              <Icon name="chat" size={13} />
            </button>
          ) : null}
          <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label={`Rename ${entry.name}`} title="Rename / move" onClick={() => actions.rename(entry)}>
            <Icon name="edit" size={13} />
          </button>
          <button type="button" className="btn btn-ghost btn-sm btn-icon btn-danger" aria-label={`Delete ${entry.name}`} title="Delete" onClick={() => actions.remove(entry)}>
            <Icon name="trash" size={13} />
          </button>
        </span>
      </div>
      {open ? (
        children === undefined ? null : children.length === 0 ? (
          <div className="tree-empty muted small" style={{ paddingLeft: 30 + depth * 14 }}>
            empty
          </div>
        ) : (
          <ul role="group">
            {children.map((c) => (
              <FileTreeNode key={c.path} entry={c} depth={depth + 1} tree={tree} selected={selected} actions={actions} />
            ))}
          </ul>
        )
      ) : null}
    </li>
  );
}

/**
 * The agent's todo list for the open conversation (OpenCode's `todo.updated` events), as a compact
 * checklist above the composer: "3/5 done" when collapsed, every item when expanded. Hidden when the list
 * is empty or every item is done or cancelled.
 */
import { useState } from "react";
import { Icon } from "../ui/Icon.tsx";
import type { Todo } from "./types.ts";

export function TodoList({ todos }: { todos: Todo[] | undefined }) {
  const [open, setOpen] = useState(true);
  if (!todos?.length || todos.every((t) => t.status === "completed" || t.status === "cancelled")) return null;
  const done = todos.filter((t) => t.status === "completed").length;
  const current = todos.find((t) => t.status === "in_progress");
  return (
    <section className="todo-panel" aria-label="Todo list">
      <button type="button" className="todo-panel-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Icon name={open ? "chevronDown" : "chevronRight"} size={13} />
        <span>
          Todo {done}/{todos.length}
        </span>
        {!open && current ? <span className="muted ellipsis">· {current.content}</span> : null}
      </button>
      {open ? (
        <ul className="todo-list">
          {todos.map((t, i) => (
            <li key={i} className={`todo ${t.status}`}>
              <span className="todo-box" aria-hidden>
                {t.status === "completed" ? "✓" : t.status === "in_progress" ? "•" : ""}
              </span>
              <span className="todo-text">{t.content}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

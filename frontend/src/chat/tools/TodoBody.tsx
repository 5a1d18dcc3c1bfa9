/** Body of a todowrite card: the agent's checklist. */
import type { ToolPart } from "../types.ts";

interface Todo {
  id?: string;
  content: string;
  status: string;
}

/** The todo list of a todowrite/todoread call. */
export function TodoBody({ part }: { part: ToolPart }) {
  const todos = (Array.isArray(part.state.input.todos) ? part.state.input.todos : []) as Todo[];
  return (
    <ul className="todo-list">
      {todos.map((t, i) => (
        <li key={t.id ?? i} className={`todo ${t.status}`}>
          <span className="todo-box" aria-hidden>
            {t.status === "completed" ? "✓" : t.status === "in_progress" ? "•" : ""}
          </span>
          {t.content}
        </li>
      ))}
    </ul>
  );
}

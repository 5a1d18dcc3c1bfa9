/**
 * The composer's slash commands: the ones OpenCode's own web UI provides on top of the session API
 * (`/new`, `/undo`, `/redo`, `/compact`, `/fork`, `/export`), then the server's (`GET /command`: `init`,
 * `review`, `customize-opencode` and the project's custom commands, run with `POST /session/:id/command`).
 */

/** Client-side commands, each mapped to a session API call by the chat (see chat/useChatActions.ts). */
export const CLIENT_COMMANDS = [
  { name: "new", description: "Start a new conversation" },
  { name: "undo", description: "Undo the last turn: its messages and its file changes" },
  { name: "redo", description: "Restore what the last undo removed" },
  { name: "compact", description: "Summarize the conversation to free context" },
  { name: "fork", description: "Continue this conversation in a new one" },
  { name: "export", description: "Download the conversation as Markdown" },
] as const;

export type ClientCommandName = (typeof CLIENT_COMMANDS)[number]["name"];

/** One entry of the slash list. `source` "client" runs at once; "server" is sent with its arguments. */
export interface SlashCommand {
  name: string;
  description?: string;
  source: "client" | "server";
}

/** Whether `name` is one of {@link CLIENT_COMMANDS}. */
export function isClientCommand(name: string): name is ClientCommandName {
  return CLIENT_COMMANDS.some((c) => c.name === name);
}

/** The slash list: client commands first, then the server's (a server command named like a client one is dropped). */
export function slashCommands(server: Array<{ name: string; description?: string }>): SlashCommand[] {
  return [
    ...CLIENT_COMMANDS.map((c) => ({ ...c, source: "client" as const })),
    ...server.filter((c) => !isClientCommand(c.name)).map((c) => ({ name: c.name, description: c.description, source: "server" as const })),
  ];
}

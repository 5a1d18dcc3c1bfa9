/**
 * The agent selector beside the model picker: OpenCode's primary agents (`GET /agent`: build, plan and the
 * configured ones; subagents and hidden agents are left out). The choice is remembered per conversation.
 */
import { useCallback, useEffect, useState } from "react";
import { useChatStore } from "./ChatContext.tsx";

export interface AgentOption {
  name: string;
  description?: string;
}

/** The session's primary agents, loaded once (empty until loaded or when the call fails). */
export function useAgents(): AgentOption[] {
  const { client } = useChatStore();
  const [agents, setAgents] = useState<AgentOption[]>([]);
  useEffect(() => {
    let cancelled = false;
    client.app.agents().then(
      (r) => !cancelled && setAgents((r.data ?? []).filter((a) => a.mode !== "subagent" && !a.hidden).map((a) => ({ name: a.name, description: a.description }))),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [client]);
  return agents;
}

/**
 * `[agent, choose]` for conversation `conversationID` of octo session `sessionId`, remembered in
 * localStorage (`octo.agent.<sessionId>.<conversationID>`); null = OpenCode's default agent.
 */
export function useAgentChoice(sessionId: string, conversationID: string | null): [string | null, (name: string) => void] {
  const key = conversationID ? agentKey(sessionId, conversationID) : null;
  const read = useCallback(() => {
    try {
      return key ? localStorage.getItem(key) : null;
    } catch {
      return null;
    }
  }, [key]);
  const [agent, setAgent] = useState<string | null>(read);
  // Another conversation: its own choice. A conversation just created keeps the choice made before it existed.
  useEffect(() => setAgent((current) => read() ?? (key ? null : current)), [read, key]);
  const choose = useCallback(
    (name: string) => {
      setAgent(name);
      try {
        if (key) localStorage.setItem(key, name);
      } catch {
        // storage disabled: remembered for this page only
      }
    },
    [key],
  );
  return [agent, choose];
}

const agentKey = (sessionId: string, conversationID: string) => `octo.agent.${sessionId}.${conversationID}`;

/** Remembers `name` for a conversation not on screen yet (one created by the first prompt). */
export function rememberAgent(sessionId: string, conversationID: string, name: string | null): void {
  try {
    if (name) localStorage.setItem(agentKey(sessionId, conversationID), name);
  } catch {
    // storage disabled
  }
}

/** A `<select>` of the agents; hidden while there is only one. */
export function AgentPicker({ agents, value, onChange }: { agents: AgentOption[]; value: string | null; onChange: (name: string) => void }) {
  if (agents.length < 2) return null;
  return (
    <select className="select agent-picker" aria-label="Agent" value={value ?? agents[0]!.name} onChange={(e) => onChange(e.target.value)}>
      {agents.map((a) => (
        <option key={a.name} value={a.name} title={a.description}>
          {a.name}
        </option>
      ))}
    </select>
  );
}

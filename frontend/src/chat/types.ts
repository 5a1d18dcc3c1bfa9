/**
 * OpenCode types the chat uses, re-exported from `@opencode-ai/sdk/v2/client` (the pinned 1.18.x SDK,
 * matching the OpenCode that sessions run) so the rest of the app has one import site.
 */
export type {
  AssistantMessage,
  Event as OpencodeEvent,
  Message,
  Part,
  PermissionRequest,
  Provider,
  QuestionInfo,
  QuestionRequest,
  ReasoningPart,
  Session as Conversation,
  SessionStatus,
  TextPart,
  Todo,
  ToolPart,
  ToolState,
  UserMessage,
} from "@opencode-ai/sdk/v2/client";

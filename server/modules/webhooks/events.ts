/**
 * The webhook event names, in a module that imports nothing, so the web app can bundle the list for its
 * form without pulling in the server (frontend/src/settings/Webhooks.tsx).
 */
export const WEBHOOK_EVENTS = ["task.succeeded", "task.failed", "task.waiting", "session.stopped"] as const;

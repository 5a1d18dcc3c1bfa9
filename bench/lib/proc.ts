/** Process facts from /proc: the server's own module (server/runtime/proc.ts), which admin stats use too. */
export * from "../../server/runtime/proc.ts";

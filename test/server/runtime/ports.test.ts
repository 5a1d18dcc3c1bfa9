import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { freePort, freePorts } from "../../../server/runtime/ports.ts";

const bind = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve()));
  });

describe("free ports", () => {
  test("freePort returns a port that can be bound right away", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    await bind(port);
  });

  test("freePorts returns distinct bindable ports", async () => {
    const ports = await freePorts(5);
    expect(ports).toHaveLength(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) await bind(port);
    expect(await freePorts(0)).toEqual([]);
  });

  test("a port in use is not returned while it is held", async () => {
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, "127.0.0.1", resolve));
    const taken = (held.address() as { port: number }).port;
    try {
      const ports = await freePorts(20);
      expect(ports).not.toContain(taken);
    } finally {
      held.close();
    }
  });

  test("an address that cannot be bound is an error", async () => {
    await expect(freePort("203.0.113.1")).rejects.toThrow();
  });
});

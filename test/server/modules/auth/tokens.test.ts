import { describe, expect, test } from "bun:test";
import { jwt } from "@elysiajs/jwt";
import { TokenService } from "../../../../server/modules/auth/tokens.ts";
import { randomSecret } from "../../../../common/ids.ts";

const SECRET = randomSecret(64);
/** A signer with the same key, to craft tokens the service did not issue. */
const forge = (secret = SECRET, alg: "HS256" | "HS512" = "HS256") => jwt({ name: "jwt", secret, alg }).decorator.jwt;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const decode = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());

describe("TokenService", () => {
  test("issues HS256 JWTs with sub, jti, iat and exp = iat + ttl, and verifies them", async () => {
    const tokens = new TokenService(SECRET, 3600);
    expect(tokens.ttlSeconds).toBe(3600);
    const { token, claims } = await tokens.issue("user1");
    expect(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString())).toMatchObject({ alg: "HS256", typ: "JWT" });
    const payload = decode(token);
    expect(payload).toMatchObject({ sub: "user1", jti: claims.jti, exp: claims.exp });
    expect(payload.exp - payload.iat).toBe(3600);
    expect(claims.jti).toMatch(/^[0-9a-z]{16}$/);
    expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(2);
    expect(await tokens.verify(token)).toMatchObject({ sub: "user1", jti: claims.jti, iat: payload.iat, exp: claims.exp });
    expect(await tokens.verify(token)).toEqual(await tokens.verify(token)); // cached path answers the same
  });

  test("every token gets its own jti", async () => {
    const tokens = new TokenService(SECRET, 60);
    const jtis = new Set(await Promise.all(Array.from({ length: 50 }, async () => (await tokens.issue("u")).claims.jti)));
    expect(jtis.size).toBe(50);
  });

  test("an expired token (ttl 0, or a crafted past exp) is refused", async () => {
    const tokens = new TokenService(SECRET, 0);
    const { token } = await tokens.issue("user1");
    expect(await tokens.verify(token)).toBeNull();
    const crafted = await forge().sign({ sub: "user1", jti: "j1", exp: Math.floor(Date.now() / 1000) - 5 });
    expect(await new TokenService(SECRET, 3600).verify(crafted)).toBeNull();
  });

  test("a cached token stops verifying once it expires", async () => {
    const tokens = new TokenService(SECRET, 1);
    const { token, claims } = await tokens.issue("user1");
    expect(await tokens.verify(token)).not.toBeNull(); // now cached
    await Bun.sleep(Math.max(0, claims.exp * 1000 - Date.now()) + 20);
    expect(await tokens.verify(token)).toBeNull();
    expect(await tokens.verify(token)).toBeNull();
  });

  test("a tampered signature or payload is refused", async () => {
    const tokens = new TokenService(SECRET, 3600);
    const { token } = await tokens.issue("user1");
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = signature.slice(0, 10) + (signature[10] === "A" ? "B" : "A") + signature.slice(11);
    expect(await tokens.verify(`${header}.${payload}.${flipped}`)).toBeNull();
    const otherPayload = b64({ ...decode(token), sub: "admin" });
    expect(await tokens.verify(`${header}.${otherPayload}.${signature}`)).toBeNull();
    expect(await tokens.verify(`${header}.${payload}.`)).toBeNull();
    expect(await tokens.verify(`${header}.${payload}`)).toBeNull();
  });

  test("a token signed with another secret, another algorithm or none is refused", async () => {
    const tokens = new TokenService(SECRET, 3600);
    const exp = Math.floor(Date.now() / 1000) + 600;
    expect(await tokens.verify(await forge(randomSecret(64)).sign({ sub: "user1", jti: "j", exp }))).toBeNull();
    expect(await tokens.verify(await forge(SECRET, "HS512").sign({ sub: "user1", jti: "j", exp }))).toBeNull();
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "user1", jti: "j", iat: exp - 600, exp })}.`;
    expect(await tokens.verify(unsigned)).toBeNull();
    // The same secret and algorithm verify (the forge helper is a faithful signer).
    expect(await tokens.verify(await forge().sign({ sub: "user1", jti: "j", exp }))).toMatchObject({ sub: "user1", jti: "j", exp });
  });

  test("tokens missing sub, jti or exp are refused", async () => {
    const tokens = new TokenService(SECRET, 3600);
    const exp = Math.floor(Date.now() / 1000) + 600;
    expect(await tokens.verify(await forge().sign({ jti: "j", exp }))).toBeNull();
    expect(await tokens.verify(await forge().sign({ sub: "u", exp }))).toBeNull();
    expect(await tokens.verify(await forge().sign({ sub: "u", jti: "j" }))).toBeNull();
  });

  test("junk never throws: empty, garbage, oversized", async () => {
    const tokens = new TokenService(SECRET, 3600);
    for (const junk of ["", "x", "a.b.c", "....", "%%%.%%%.%%%", "e".repeat(5000)]) {
      expect(await tokens.verify(junk)).toBeNull();
    }
    const { token } = await tokens.issue("u");
    expect(await tokens.verify(token + "x".repeat(4096))).toBeNull();
  });

  test("the verification cache stays bounded and correct past its size", async () => {
    const tokens = new TokenService(SECRET, 3600);
    const issued = await Promise.all(Array.from({ length: 1100 }, (_, i) => tokens.issue(`u${i}`)));
    for (const { token } of issued) expect(await tokens.verify(token)).not.toBeNull();
    const cache = (tokens as unknown as { verified: Map<string, unknown> }).verified;
    expect(cache.size).toBeLessThanOrEqual(1024);
    expect((await tokens.verify(issued[0]!.token))?.sub).toBe("u0"); // evicted, verified again
  });
});

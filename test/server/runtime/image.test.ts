/**
 * Session image build (server/runtime/image.ts) against a real engine: the build context, the inputs hash
 * that decides rebuilds, progress streaming, labels, and clear errors for bad inputs.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, createWriteStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  buildSessionImage,
  DEFAULT_BASE_IMAGE,
  defaultImageTag,
  ensureSessionImage,
  sessionImageInputs,
  tarStream,
} from "../../../server/runtime/image.ts";
import { VERSION } from "../../../common/version.ts";
import { CONTAINER_ENGINE, expectOctoError, testEngine, testImage, testOctoBinary } from "../../support/podman.ts";
import { requires } from "../../support/requires.ts";
import { tempDir } from "../../support/tmp.ts";

setDefaultTimeout(600_000);

const engine = await testEngine();
const haveEngine = await requires(CONTAINER_ENGINE, "session image (real engine)");

describe("tarStream", () => {
  test("writes a ustar archive that tar reads back with names, sizes and modes", async () => {
    const dir = tempDir("tar-");
    writeFileSync(join(dir, "a.txt"), "hello\n");
    writeFileSync(join(dir, "big.bin"), Buffer.alloc(1000, 7));
    const archive = join(dir, "out.tar");
    await pipeline(
      tarStream([
        { name: "a.txt", path: join(dir, "a.txt"), mode: 0o644 },
        { name: "tool", path: join(dir, "big.bin"), mode: 0o755 },
      ]),
      createWriteStream(archive),
    );
    const listed = spawnSync("tar", ["-tvf", archive], { encoding: "utf8" });
    expect(listed.status).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^-rw-r--r-- .* 6 .* a\.txt$/);
    expect(lines[1]).toMatch(/^-rwxr-xr-x .* 1000 .* tool$/);
    const out = tempDir("untar-");
    expect(spawnSync("tar", ["-xf", archive, "-C", out]).status).toBe(0);
    expect(await Bun.file(join(out, "tool")).bytes()).toEqual(new Uint8Array(1000).fill(7));
  });
});

describe.skipIf(!haveEngine)("session image (real engine)", () => {
  const scratchTags: string[] = [];
  let octoBinary: string;

  beforeAll(async () => {
    await testImage(engine!);
    octoBinary = await testOctoBinary();
  }, 15 * 60_000);

  afterAll(async () => {
    for (const tag of scratchTags) await engine!.docker.getImage(tag).remove().catch(() => {});
  });

  test("the inputs hash is stable and follows every input", async () => {
    const docker = engine!.docker;
    const a = await sessionImageInputs(docker, { octoBinary });
    const b = await sessionImageInputs(docker, { octoBinary });
    expect(a.hash).toBe(b.hash);
    expect(a.files.map((f) => f.name)).toEqual(["Dockerfile", "entrypoint.sh", "octo", "opencode"]);
    expect(a.buildArgs.BASE_IMAGE).toBe(DEFAULT_BASE_IMAGE);
    expect((await sessionImageInputs(docker, { octoBinary, devUid: 4242 })).hash).not.toBe(a.hash);
    const copy = join(tempDir("octo-copy-"), "octo");
    writeFileSync(copy, Buffer.concat([await Bun.file(octoBinary).bytes(), Buffer.from("x")]));
    expect((await sessionImageInputs(docker, { octoBinary: copy })).hash).not.toBe(a.hash);
  });

  test("an image that is current is not rebuilt", async () => {
    // On a fresh machine the first call builds the image; the second must find it current.
    await ensureSessionImage({ docker: engine!.docker, octoBinary, tag: defaultImageTag() });
    const result = await ensureSessionImage({ docker: engine!.docker, octoBinary, tag: defaultImageTag() });
    expect(result).toBeNull();
    const info = await engine!.docker.getImage(defaultImageTag()).inspect();
    expect(info.Config.Labels).toMatchObject({ "octo.version": VERSION, "octo.uid": "1000", "octo.gid": "1000" });
    expect(info.Config.User).toBe("dev");
    expect(Object.keys(info.Config.ExposedPorts ?? {}).sort()).toEqual(["4096/tcp", "4097/tcp", "4098/tcp"]);
  });

  test("a build streams progress and labels the image with its inputs", async () => {
    const tag = `octo-session-test:${Date.now().toString(36)}`;
    scratchTags.push(tag);
    const lines: string[] = [];
    const result = await buildSessionImage({ docker: engine!.docker, octoBinary, tag, onProgress: (l) => lines.push(l) });
    expect(lines.some((l) => /STEP|Step/.test(l))).toBe(true);
    const info = await engine!.docker.getImage(tag).inspect();
    expect(info.Config.Labels?.["octo.inputs"]).toBe(result.inputsHash);
    expect(result.seconds).toBeGreaterThan(0);
  });

  test("a failing build is IMAGE_BUILD_FAILED with the engine's output", async () => {
    const tag = `octo-session-test:bad${Date.now().toString(36)}`;
    scratchTags.push(tag);
    const err = await expectOctoError(buildSessionImage({ docker: engine!.docker, octoBinary, tag, devUid: -5 }));
    expect(err.code).toBe("IMAGE_BUILD_FAILED");
    expect(err.message).toContain("groupadd");
  });

  test("bad inputs are clear errors", async () => {
    const docker = engine!.docker;
    const missing = await expectOctoError(sessionImageInputs(docker, { octoBinary: "/nonexistent/octo" }));
    expect(missing.code).toBe("IMAGE_INPUT_MISSING");
    expect(missing.message).toContain("npm run build");

    const script = join(tempDir("not-elf-"), "octo");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o755);
    const notElf = await expectOctoError(sessionImageInputs(docker, { octoBinary: script }));
    expect(notElf.code).toBe("IMAGE_INPUT_INVALID");

    const noBase = await expectOctoError(sessionImageInputs(docker, { octoBinary, baseImage: "localhost/no-such-base:1" }));
    expect(noBase.code).toBe("IMAGE_MISSING");
    expect(noBase.message).toContain(".ci/container-setup");
  });
});

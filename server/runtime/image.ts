/**
 * Building the session image (`container/Dockerfile`) through the engine octo uses — the code behind
 * `octoctl image build`, `npm run image` and the container tests' image setup.
 *
 * The build context is assembled here, not read from a directory, so a compiled `octo` can build its own
 * image: `Dockerfile` and `entrypoint.sh` are embedded in the binary (Bun file imports), `octo` is the
 * compiled octo binary (the running executable when compiled, else `dist/octo`), and `opencode` is the
 * pinned OpenCode standalone binary from `node_modules/opencode-linux-<arch>` (resolved like local mode
 * does). The context is streamed as an uncompressed POSIX ustar archive (the Docker API `/build` accepts
 * tar, gzip, bzip2 or xz; no compression saves ~15 s of CPU on 300 MB of binaries).
 *
 * Every image is labelled `octo.inputs` = SHA-256 over its inputs (files, base image id, build args), so
 * {@link ensureSessionImage} rebuilds only when something changed.
 */
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import type Docker from "dockerode";
import dockerfilePath from "../../container/Dockerfile" with { type: "file" };
import entrypointPath from "../../container/entrypoint.sh" with { type: "file" };
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { OPENCODE_VERSION, VERSION } from "../../common/version.ts";
import { isCompiled, resolveOpencodeBinary } from "./binaries.ts";

const log = createLogger("image");

/** The default session image tag, `octo-session:<octo version>`. */
export function defaultImageTag(version: string = VERSION): string {
  return `octo-session:${version}`;
}

/** Base image used when none is given: the one `.ci/container-setup` builds with debootstrap. */
export const DEFAULT_BASE_IMAGE = "localhost/octo-base:bookworm";

/** One file of the build context. */
export interface ContextFile {
  /** Name inside the context, e.g. "octo". */
  name: string;
  /** Host path it is read from. */
  path: string;
  /** Unix mode, e.g. 0o755. */
  mode: number;
}

export interface ImageInputs {
  files: ContextFile[];
  buildArgs: Record<string, string>;
  /** Hex SHA-256 over the files' contents, the base image id and the build args. */
  hash: string;
}

export interface ImageInputOptions {
  /** Compiled octo binary (Linux ELF); default the running executable when compiled, else `<repo>/dist/octo`. */
  octoBinary?: string;
  /** OpenCode standalone binary (Linux ELF); default the pinned `opencode-linux-<arch>` package. */
  opencodeBinary?: string;
  /** `BASE_IMAGE` build arg (default {@link DEFAULT_BASE_IMAGE}). */
  baseImage?: string;
  /** uid/gid of the image's `dev` user (default: octo's own uid/gid when not root, else 1000). */
  devUid?: number;
  devGid?: number;
}

/** `<repo>/dist/octo`, or the running binary when octo is compiled. */
export function defaultOctoBinary(): string {
  if (isCompiled()) return process.execPath;
  return resolve(import.meta.dir, "../../dist/octo");
}

function requireLinuxExecutable(path: string, what: string, fix: string): void {
  if (!existsSync(path)) throw new OctoError(500, "IMAGE_INPUT_MISSING", `${what} ${path} does not exist; ${fix}`);
  const fd = openSync(path, "r");
  const magic = Buffer.alloc(4);
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (!magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    throw new OctoError(500, "IMAGE_INPUT_INVALID", `${what} ${path} is not a Linux executable (ELF); ${fix}`);
  }
}

const hashCache = new Map<string, string>();

async function fileHash(path: string): Promise<string> {
  const blob = Bun.file(path);
  const key = `${path}:${blob.size}:${blob.lastModified}`;
  const cached = hashCache.get(key);
  if (cached) return cached;
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of blob.stream()) hasher.update(chunk);
  const digest = hasher.digest("hex");
  hashCache.set(key, digest);
  return digest;
}

/**
 * Resolves the build context files and build args, and hashes them.
 * @throws OctoError 500 IMAGE_INPUT_MISSING / IMAGE_INPUT_INVALID when a binary is missing or not a Linux ELF;
 *   OctoError 503 IMAGE_MISSING when the base image is not present in the engine.
 */
export async function sessionImageInputs(docker: Docker, options: ImageInputOptions = {}): Promise<ImageInputs> {
  const octoBinary = options.octoBinary ?? defaultOctoBinary();
  requireLinuxExecutable(octoBinary, "octo binary", "build it with `npm run build` (a Linux build for the image)");
  const opencodeBinary = options.opencodeBinary ?? resolveOpencodeBinary("");
  requireLinuxExecutable(opencodeBinary, "OpenCode binary", "install the pinned opencode-ai package (npm ci)");
  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const gid = typeof process.getgid === "function" ? process.getgid() : 0;
  const devUid = options.devUid ?? (uid === 0 ? 1000 : uid);
  const devGid = options.devGid ?? (uid === 0 ? 1000 : gid);

  let baseId: string;
  try {
    baseId = (await docker.getImage(baseImage).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    throw new OctoError(
      503,
      "IMAGE_MISSING",
      `Base image ${baseImage} is not present; build it first (.ci/container-setup makes ` +
        `${DEFAULT_BASE_IMAGE} with debootstrap) or pass another Debian 12 image as the base`,
    );
  }

  const files: ContextFile[] = [
    { name: "Dockerfile", path: dockerfilePath, mode: 0o644 },
    { name: "entrypoint.sh", path: entrypointPath, mode: 0o755 },
    { name: "octo", path: octoBinary, mode: 0o755 },
    { name: "opencode", path: opencodeBinary, mode: 0o755 },
  ];
  const buildArgs = { BASE_IMAGE: baseImage, DEV_UID: String(devUid), DEV_GID: String(devGid) };
  const hasher = new Bun.CryptoHasher("sha256");
  for (const file of files) hasher.update(`${file.name} ${file.mode} ${await fileHash(file.path)}\n`);
  hasher.update(`base ${baseId}\n`);
  for (const [key, value] of Object.entries(buildArgs)) hasher.update(`arg ${key}=${value}\n`);
  return { files, buildArgs, hash: hasher.digest("hex") };
}

/** A 512-byte POSIX ustar header (https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html). */
function tarHeader(name: string, size: number, mode: number, mtime: number): Buffer {
  const header = Buffer.alloc(512);
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, "0") + "\0";
  header.write(name, 0, 100, "utf8");
  header.write(octal(mode, 8), 100, 8, "ascii");
  header.write(octal(0, 8), 108, 8, "ascii"); // uid
  header.write(octal(0, 8), 116, 8, "ascii"); // gid
  header.write(octal(size, 12), 124, 12, "ascii");
  header.write(octal(Math.floor(mtime), 12), 136, 12, "ascii");
  header.write("        ", 148, 8, "ascii"); // checksum placeholder: spaces
  header.write("0", 156, 1, "ascii"); // regular file
  header.write("ustar\0", 257, 6, "ascii");
  header.write("00", 263, 2, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return header;
}

/**
 * Streams `files` as an uncompressed tar archive (regular files only, names < 100 bytes). Files are read
 * with `Bun.file`, which also reads the files embedded in a compiled binary (`/$bunfs/...`, where
 * `node:fs` streams cannot open them).
 */
export function tarStream(files: ContextFile[]): Readable {
  async function* generate() {
    for (const file of files) {
      const blob = Bun.file(file.path);
      const size = blob.size;
      yield tarHeader(file.name, size, file.mode, blob.lastModified / 1000);
      let written = 0;
      for await (const chunk of blob.stream()) {
        written += chunk.length;
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
      }
      if (written !== size) throw new Error(`${file.path} changed while it was being sent`);
      const pad = (512 - (size % 512)) % 512;
      if (pad) yield Buffer.alloc(pad);
    }
    yield Buffer.alloc(1024); // two zero blocks end the archive
  }
  return Readable.from(generate());
}

export interface BuildOptions extends ImageInputOptions {
  docker: Docker;
  /** Image tag (default {@link defaultImageTag}). */
  tag?: string;
  /** Build without the engine's layer cache. */
  noCache?: boolean;
  /** Receives each line of build output (without trailing newline). */
  onProgress?: (line: string) => void;
  /** Aborts the build. */
  signal?: AbortSignal;
}

export interface BuildResult {
  tag: string;
  /** Image id as the engine reports it (e.g. "sha256:..."). */
  id: string;
  /** The `octo.inputs` label. */
  inputsHash: string;
  /** Wall-clock build time in seconds. */
  seconds: number;
}

/**
 * Builds the session image and tags it; labels it `octo.inputs`, `octo.version`, `octo.opencode`.
 * @throws OctoError as {@link sessionImageInputs}; OctoError 500 IMAGE_BUILD_FAILED with the engine's error
 *   and the last lines of output when the build fails.
 */
export async function buildSessionImage(options: BuildOptions): Promise<BuildResult> {
  const { docker } = options;
  const tag = options.tag ?? defaultImageTag();
  const started = performance.now();
  const inputs = await sessionImageInputs(docker, options);
  log.info("building session image", { tag, base: inputs.buildArgs.BASE_IMAGE, noCache: Boolean(options.noCache) });

  const tail: string[] = [];
  const emit = (text: string) => {
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.onProgress?.(line);
    }
  };

  const stream = await docker.buildImage(tarStream(inputs.files), {
    t: tag,
    buildargs: inputs.buildArgs,
    labels: { "octo.inputs": inputs.hash, "octo.version": VERSION, "octo.opencode": OPENCODE_VERSION },
    nocache: Boolean(options.noCache),
    rm: true,
    forcerm: true,
    abortSignal: options.signal,
  } as Docker.ImageBuildOptions);

  await new Promise<void>((resolvePromise, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: { error?: string }[]) => {
        const failed = err?.message ?? output?.find((o) => o.error)?.error;
        if (failed) {
          reject(
            new OctoError(500, "IMAGE_BUILD_FAILED", `Building ${tag} failed: ${failed.trim()}\n${tail.join("\n")}`),
          );
        } else resolvePromise();
      },
      (event: { stream?: string; status?: string; error?: string }) => {
        if (event.stream) emit(event.stream);
        else if (event.status) emit(event.status);
        else if (event.error) emit(event.error);
      },
    );
  });

  let image: Docker.ImageInspectInfo;
  try {
    image = await docker.getImage(tag).inspect();
  } catch {
    throw new OctoError(500, "IMAGE_BUILD_FAILED", `Building ${tag} reported success but the image is missing\n${tail.join("\n")}`);
  }
  await removeUntaggedSessionImages(docker);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  log.info("session image built", { tag, id: image.Id.slice(0, 19), seconds });
  return { tag, id: image.Id, inputsHash: inputs.hash, seconds };
}

/**
 * Removes session images (label `octo.inputs`) that lost their tag to a newer build, about 540 MB each.
 * Images still used by a container stay (the engine refuses), and are removed by a later build.
 */
export async function removeUntaggedSessionImages(docker: Docker): Promise<void> {
  const dangling = await docker
    .listImages({ filters: JSON.stringify({ dangling: ["true"], label: ["octo.inputs"] }) })
    .catch(() => []);
  for (const image of dangling) await docker.getImage(image.Id).remove().catch(() => {});
}

/**
 * Builds the session image only when `tag` is missing or its `octo.inputs` label differs from the current
 * inputs. Returns null when the existing image is current.
 * @throws as {@link buildSessionImage}.
 */
export async function ensureSessionImage(options: BuildOptions): Promise<BuildResult | null> {
  const tag = options.tag ?? defaultImageTag();
  const inputs = await sessionImageInputs(options.docker, options);
  try {
    const image = await options.docker.getImage(tag).inspect();
    if (image.Config?.Labels?.["octo.inputs"] === inputs.hash) return null;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  return buildSessionImage({ ...options, tag });
}


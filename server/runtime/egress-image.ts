/**
 * The egress sidecar's image (`container/egress.Dockerfile`: tinyproxy and socat on the Debian base), built
 * by octo through its engine when missing or when its inputs changed (label `octo.egress-inputs`: SHA-256 of
 * the Dockerfile and the base image id). Kept apart from the session image so that the sidecar never depends
 * on which session image is tagged.
 */
import type Docker from "dockerode";
import dockerfilePath from "../../container/egress.Dockerfile" with { type: "file" };
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { VERSION } from "../../common/version.ts";
import { DEFAULT_BASE_IMAGE, runBuild } from "./image.ts";

const log = createLogger("image");

/** The default sidecar image tag, `octo-egress:<octo version>`. */
export function defaultEgressImageTag(): string {
  return `octo-egress:${VERSION}`;
}

/**
 * Builds `tag` from `baseImage` unless an image with the current inputs exists.
 * @returns whether it built.
 * When the base is missing, an existing `tag` is used as it is (loaded into the engine from elsewhere).
 * @throws OctoError 503 IMAGE_MISSING when both are missing; 500 IMAGE_BUILD_FAILED.
 */
export async function ensureEgressImage(docker: Docker, options: { tag?: string; baseImage?: string; onProgress?: (line: string) => void; signal?: AbortSignal } = {}): Promise<boolean> {
  const tag = options.tag ?? defaultEgressImageTag();
  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  let baseId: string;
  try {
    baseId = (await docker.getImage(baseImage).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    // Without the base nothing can be built or checked for staleness: an image loaded into the engine
    // (e.g. `docker load` of one built elsewhere) is used as it is.
    if (await hasImage(docker, tag)) return false;
    throw new OctoError(503, "IMAGE_MISSING", `The egress proxy image ${tag} is missing and its base ${baseImage} too; build the base (.ci/container-setup) or load ${tag} into the engine`);
  }
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(await Bun.file(dockerfilePath).text());
  hasher.update(`base ${baseId}\n`);
  const hash = hasher.digest("hex");
  try {
    if ((await docker.getImage(tag).inspect()).Config?.Labels?.["octo.egress-inputs"] === hash) return false;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  log.info("building egress proxy image", { tag, base: baseImage });
  await runBuild(docker, [{ name: "Dockerfile", path: dockerfilePath, mode: 0o644 }], {
    tag,
    buildArgs: { BASE_IMAGE: baseImage },
    labels: { "octo.egress-inputs": hash, "octo.version": VERSION },
    onProgress: options.onProgress,
    signal: options.signal,
  });
  return true;
}

/** Whether the engine has `tag`. */
export async function hasImage(docker: Docker, tag: string): Promise<boolean> {
  return docker.getImage(tag).inspect().then(() => true, () => false);
}

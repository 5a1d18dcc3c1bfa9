/**
 * Types of the container build files imported with `with { type: "file" }` (see image.ts): Bun gives the
 * path of the file (inside the compiled binary's embedded filesystem when compiled).
 */
declare module "*/container/Dockerfile" {
  const path: string;
  export default path;
}
declare module "*/container/entrypoint.sh" {
  const path: string;
  export default path;
}

declare module "*/container/egress.Dockerfile" {
  const path: string;
  export default path;
}

// Builds the console (console/) into dist/, which package web embeds and
// arrsd serves: one script bundle, one stylesheet (NHS.UK frontend's, with
// its web-font rules left out — the fonts live on assets.nhs.uk, which the
// CSP does not allow — and the console's own), index.html and the images
// the stylesheet names. The output depends only on the sources and the
// pinned packages, so `make generate` leaves no diff.
import { build } from "esbuild";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const nhsuk = join(here, "node_modules", "nhsuk-frontend", "dist", "nhsuk");

await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, "assets", "images"), { recursive: true });

await build({
  entryPoints: [join(here, "console", "main.ts")],
  outfile: join(dist, "assets", "console.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});

let css = await readFile(join(nhsuk, "nhsuk-frontend.min.css"), "utf8");
css = css.replace(/@font-face\{[^}]*\}/g, "");
const images = [...new Set([...css.matchAll(/url\(\/assets\/images\/([\w.-]+)\)/g)].map((m) => m[1]))].sort();
for (const name of [...images, "favicon.svg"]) {
  await copyFile(join(nhsuk, "assets", "images", name), join(dist, "assets", "images", name));
}
const own = await readFile(join(here, "console", "console.css"), "utf8");
await writeFile(join(dist, "assets", "console.css"), `${css}\n${own}`);
await copyFile(join(here, "console", "index.html"), join(dist, "index.html"));

// Minifies the JavaScript in dist/ (wasm-bindgen's glue and snippets: Trunk 0.21's minifier
// leaves them almost as they are) with esbuild, then rewrites the Subresource Integrity hashes
// Trunk put in dist/index.html for the files that changed. Run by scripts/build-spa.sh.
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dist = process.argv[2] || join(root, "dist");
const require = createRequire(join(root, "tools", "package.json"));
const esbuild = require("esbuild");

function jsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== "locales") out.push(...jsFiles(p));
    } else if (name.endsWith(".js")) {
      out.push(p);
    }
  }
  return out;
}

const sri = (buf) => "sha384-" + createHash("sha384").update(buf).digest("base64");
const indexPath = join(dist, "index.html");
let index = readFileSync(indexPath, "utf8");
let before = 0, after = 0;
for (const file of jsFiles(dist)) {
  // The face worker's scripts are classic scripts (importScripts, a global `wasm_bindgen`):
  // minifying them as modules would rename that global.
  if (/liveform-face/.test(file)) continue;
  const src = readFileSync(file);
  const { code } = esbuild.transformSync(src.toString("utf8"), {
    minify: true,
    format: "esm",
    target: "es2020",
    legalComments: "none",
  });
  const min = Buffer.from(code);
  if (min.length >= src.length) continue;
  writeFileSync(file, min);
  before += src.length; after += min.length;
  const href = "/" + relative(dist, file);
  const old = sri(src);
  if (index.includes(old)) index = index.split(old).join(sri(min));
  else if (index.includes(href)) throw new Error(`no integrity hash for ${href} in index.html`);
}
writeFileSync(indexPath, index);
console.error(`minified JS: ${before} -> ${after} bytes`);

#!/usr/bin/env node
// Generates locales/countries/<lang>.json (country names per UI language) from Unicode CLDR.
//
//   node scripts/gen-countries.mjs [--install] [--modules DIR] [--check] [TSV]
//
// TSV      the supported-ID-types table (column 2 alpha-3, column 3 alpha-2). Default
//          core/data/supported-id-types.tsv, else /work/shared/reference/supported-id-types.tsv.
// --modules  the node_modules folder holding the pinned CLDR packages (scripts/package.json).
//          Default $CLDR_MODULES, else ~/.cache/liveform/gen-countries/node_modules (outside the
//          repo: the packages are 37 MB and only this script needs them).
// --install  first installs the exact versions pinned in scripts/package.json there (npm).
// --check    writes nothing; exits 1 if the committed files differ from what would be generated.
//
// Output per file: {"<alpha3>":{"name":…,"native":…,"alpha2":…},…}, minified, keys sorted; plus
// locales/countries/NOTICE.txt (source, versions and the Unicode licence, shipped with the data).
// The rules (which name variant, how `native` is chosen) are documented in docs/country-names.md.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zc, gzipSync } from "node:zlib";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// The UI languages (core::lang::SUPPORTED, ARGOS's 26), and the CLDR locale of each where the
// codes differ: CLDR calls Tagalog/Filipino "fil"; its "zh" is Simplified, "pt" Brazilian and
// "uz" Latin, which is what the form shows.
const UI_LANGS = ["ko", "en", "zh", "es", "ja", "pt", "vi", "ru", "ar", "fi", "fr", "hi", "id", "fa", "pl", "th", "de", "tl", "km", "ne", "ur", "bn", "uz", "si", "ms", "my"];
const CLDR_LOCALE = { tl: "fil" };
const OUT_DIR = join(ROOT, "locales", "countries");
const PINNED = JSON.parse(readFileSync(join(ROOT, "scripts", "package.json"), "utf8")).dependencies;

// CLDR's default name everywhere, except these territories, whose default carries an
// administrative qualifier ("Hong Kong SAR China", "Palestinian Territories", "Myanmar (Burma)")
// that nobody types or expects in a country picker: there the locale's "-alt-short" form is used
// (when the locale has one). Applied to `name` and `native` alike.
const PREFER_SHORT = new Set(["HK", "MO", "MM", "PS"]);
// Official-status values of territoryInfo that make a language count for `native`
// ("official_regional" does not). A de-facto-official language that CLDR records as mostly
// unwritten (_writingPercent < 50: Swiss German in CH and LI) is left out too.
const OFFICIAL = new Set(["official", "de_facto_official"]);
const isOfficial = (v) =>
  v._officialStatus === "official" ||
  (OFFICIAL.has(v._officialStatus) && !(v._writingPercent !== undefined && Number(v._writingPercent) < 50));
// Most names joined into `native` (ordered by share of the population speaking the language).
const MAX_NATIVE = 4;
const NATIVE_SEP = " / ";

// ---- arguments ---------------------------------------------------------------------------------
const args = process.argv.slice(2);
let modules = process.env.CLDR_MODULES || join(homedir(), ".cache", "liveform", "gen-countries", "node_modules");
let install = false;
let check = false;
let tsvPath = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--install") install = true;
  else if (a === "--check") check = true;
  else if (a === "--modules") modules = resolve(args[++i]);
  else if (a === "-h" || a === "--help") {
    console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 15).join("\n"));
    process.exit(0);
  } else if (a.startsWith("-")) die(`unknown option ${a}`);
  else tsvPath = resolve(a);
}
if (!tsvPath) {
  tsvPath = [join(ROOT, "core", "data", "supported-id-types.tsv"), "/work/shared/reference/supported-id-types.tsv"].find(existsSync);
  if (!tsvPath) die("no TSV: pass its path");
}

function die(msg) {
  console.error(`gen-countries: ${msg}`);
  process.exit(1);
}

// ---- the pinned CLDR packages ------------------------------------------------------------------
if (install) {
  const prefix = dirname(modules);
  mkdirSync(prefix, { recursive: true });
  copyFileSync(join(ROOT, "scripts", "package.json"), join(prefix, "package.json"));
  console.error(`gen-countries: npm install (${Object.entries(PINNED).map(([n, v]) => `${n}@${v}`).join(", ")}) into ${prefix}`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--save-exact", "--prefix", prefix], { stdio: "inherit" });
}
const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));
for (const [name, version] of Object.entries(PINNED)) {
  const pj = join(modules, name, "package.json");
  if (!existsSync(pj)) die(`${name} not found in ${modules}; run with --install (or --modules DIR)`);
  const got = readJson(pj).version;
  if (got !== version) die(`${name} is ${got} in ${modules}, scripts/package.json pins ${version}; run with --install`);
}
const CORE = join(modules, "cldr-core");
const NAMES = join(modules, "cldr-localenames-full", "main");
const territoryInfo = readJson(join(CORE, "supplemental", "territoryInfo.json")).supplemental.territoryInfo;
const likely = readJson(join(CORE, "supplemental", "likelySubtags.json")).supplemental.likelySubtags;
const codeMappings = readJson(join(CORE, "supplemental", "codeMappings.json")).supplemental.codeMappings;
const cldrVersion = readJson(join(modules, "cldr-localenames-full", "package.json")).cldrVersion;

const localeCache = new Map();
/** The territory names of one CLDR locale ("de-CH"), or null if CLDR has none for it. */
function territories(locale) {
  if (!localeCache.has(locale)) {
    const p = join(NAMES, locale, "territories.json");
    localeCache.set(locale, existsSync(p) ? readJson(p).main[locale].localeDisplayNames.territories : null);
  }
  return localeCache.get(locale);
}

/** A territory's name in a locale chain (most specific first), honouring PREFER_SHORT. */
function nameIn(chain, alpha2) {
  for (const locale of chain) {
    const t = territories(locale);
    if (!t) continue;
    if (PREFER_SHORT.has(alpha2) && t[`${alpha2}-alt-short`]) return { name: t[`${alpha2}-alt-short`], locale };
    if (t[alpha2]) return { name: t[alpha2], locale };
  }
  return null;
}

/** The locale chain for a territoryInfo language ("sr_Latn", "zh", "de") as used in `region`:
 *  lang-Script-REGION, lang-REGION, lang-Script, lang (CLDR inheritance, script made explicit
 *  with likelySubtags so "sr" in Bosnia is Cyrillic and "sr_Latn" never falls back to it). */
function chainFor(lang, region) {
  const [base, explicitScript] = lang.split("_");
  const defaultScript = (likely[base] || "").split("-")[1];
  const script = explicitScript || (likely[`${base}-${region}`] || "").split("-")[1] || defaultScript;
  const chain = [`${base}-${script}-${region}`];
  if (script === defaultScript) chain.push(`${base}-${region}`);
  chain.push(`${base}-${script}`);
  if (script === defaultScript) chain.push(base);
  return chain;
}

/** `native`: the territory's name in each of its official languages (CLDR territoryInfo:
 *  officialStatus official, or de_facto_official and written; see isOfficial), most-spoken
 *  first, duplicates dropped, at most MAX_NATIVE, joined with " / ". If none of its official
 *  languages has CLDR names, the most-spoken language that has; failing that, English. */
function nativeName(alpha2) {
  const pop = territoryInfo[alpha2]?.languagePopulation || {};
  const langs = Object.entries(pop)
    .map(([lang, v]) => ({ lang, pct: Number(v._populationPercent || 0), official: isOfficial(v) }))
    .sort((a, b) => b.pct - a.pct || a.lang.localeCompare(b.lang));
  const collect = (list) => {
    const out = [];
    for (const { lang } of list) {
      const n = nameIn(chainFor(lang, alpha2), alpha2);
      if (n && !out.some((o) => o.name === n.name)) out.push({ ...n, lang });
    }
    return out;
  };
  let names = collect(langs.filter((l) => l.official));
  if (names.length === 0) names = collect(langs).slice(0, 1);
  if (names.length === 0) names = [{ ...nameIn(["en"], alpha2), lang: "en" }];
  return names.slice(0, MAX_NATIVE);
}

// ---- the supported countries -------------------------------------------------------------------
const alpha2ByAlpha3 = new Map(
  Object.entries(codeMappings).filter(([k, v]) => /^[A-Z]{2}$/.test(k) && v._alpha3).map(([k, v]) => [v._alpha3, k]),
);
const rows = readFileSync(tsvPath, "utf8").split(/\r?\n/).slice(1).filter((l) => l.trim());
const countries = [];
for (const line of rows) {
  const cols = line.split("\t");
  const alpha3 = cols[1]?.trim();
  let alpha2 = cols[2]?.trim();
  if (!/^[A-Z]{3}$/.test(alpha3 || "")) die(`bad alpha-3 in TSV line: ${line}`);
  const cldrAlpha2 = alpha2ByAlpha3.get(alpha3);
  if (!alpha2) {
    // Namibia's "NA" is lost to "not available" by spreadsheet tools: take CLDR's.
    if (!cldrAlpha2) die(`${alpha3}: no alpha-2 in the TSV nor in CLDR`);
    console.error(`gen-countries: note: ${alpha3} has no alpha-2 in the TSV; using CLDR's ${cldrAlpha2}`);
    alpha2 = cldrAlpha2;
  } else if (cldrAlpha2 && cldrAlpha2 !== alpha2) {
    die(`${alpha3}: TSV says alpha-2 ${alpha2}, CLDR codeMappings says ${cldrAlpha2}`);
  }
  countries.push({ alpha3, alpha2 });
}
countries.sort((a, b) => (a.alpha3 < b.alpha3 ? -1 : 1));
if (new Set(countries.map((c) => c.alpha3)).size !== countries.length) die("duplicate alpha-3 in the TSV");

// ---- build and write ---------------------------------------------------------------------------
const natives = new Map(countries.map((c) => [c.alpha3, nativeName(c.alpha2)]));
let stale = false;
const report = [];
function emit(file, text) {
  if (check) {
    if (!existsSync(file) || readFileSync(file, "utf8") !== text) {
      console.error(`gen-countries: ${file} is not what the generator makes`);
      stale = true;
    }
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}
const pinnedList = Object.entries(PINNED).map(([n, v]) => `${n}@${v}`).join(", ");
emit(
  join(OUT_DIR, "NOTICE.txt"),
  `The files ${UI_LANGS.map((l) => `${l}.json`).join(", ")} in this folder are generated by scripts/gen-countries.mjs
from Unicode CLDR ${cldrVersion} data (npm: ${pinnedList}); see docs/country-names.md.
They are Data Files under the following licence.

${readFileSync(join(modules, "cldr-localenames-full", "LICENSE"), "utf8").trim()}
`,
);
for (const ui of UI_LANGS) {
  const obj = {};
  const locale = CLDR_LOCALE[ui] ?? ui;
  if (!territories(locale)) die(`CLDR has no territory names for ${locale}`);
  const english = [];
  for (const { alpha3, alpha2 } of countries) {
    // A territory the locale does not name (rare) gets its English name, and is reported.
    const n = nameIn([locale, "en"], alpha2);
    if (!n) die(`no ${ui} name for ${alpha2}`);
    if (n.locale !== locale) english.push(alpha2);
    obj[alpha3] = { name: n.name, native: natives.get(alpha3).map((x) => x.name).join(NATIVE_SEP), alpha2 };
  }
  const text = JSON.stringify(obj) + "\n";
  emit(join(OUT_DIR, `${ui}.json`), text);
  const raw = Buffer.byteLength(text);
  const gz = gzipSync(text, { level: 9 }).length;
  const br = brotliCompressSync(text, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length;
  report.push(
    `${`locales/countries/${ui}.json`.padEnd(28)} ${String(countries.length).padStart(4)} countries ${String(raw).padStart(7)} B raw ${String(gz).padStart(6)} B gzip-9 ${String(br).padStart(6)} B brotli-11` +
      (english.length ? ` (in English: ${english.join(" ")})` : ""),
  );
}
console.log(`CLDR ${cldrVersion} (${pinnedList}), ${countries.length} countries from ${tsvPath}${check ? " (--check: nothing written)" : ""}`);
for (const l of report) console.log(l);
if (process.env.GEN_COUNTRIES_VERBOSE) {
  for (const { alpha3 } of countries) console.log(alpha3, natives.get(alpha3).map((x) => `${x.lang}@${x.locale}=${x.name}`).join(" | "));
}
if (stale) process.exit(1);

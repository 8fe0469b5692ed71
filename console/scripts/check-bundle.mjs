// Budget: at most 150 KB of JavaScript, gzipped, on first load (every script index.html
// loads, and what they import statically). Also: no secret-looking text in what is shipped.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 150 * 1024;
const dist = "dist";
const html = readFileSync(join(dist, "index.html"), "utf8");
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html)) {
  console.error("check-bundle: index.html has an inline script; the CSP forbids it");
  process.exit(1);
}
const first = new Set([...html.matchAll(/(?:src|href)="\/console\/([^"]+\.js)"/g)].map((m) => m[1]));
const queue = [...first];
while (queue.length) {
  const file = queue.pop();
  const code = readFileSync(join(dist, file), "utf8");
  for (const m of code.matchAll(/from"\.\/([^"]+\.js)"|import"\.\/([^"]+\.js)"/g)) {
    const dep = "assets/" + (m[1] ?? m[2]);
    if (!first.has(dep)) {
      first.add(dep);
      queue.push(dep);
    }
  }
}
let total = 0;
for (const file of first) total += gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (total / 1024).toFixed(1);
console.log(`check-bundle: ${kb} KB of JavaScript gzipped on first load (${first.size} file(s); budget 150 KB)`);
if (total > BUDGET) {
  console.error(`check-bundle: over budget by ${((total - BUDGET) / 1024).toFixed(1)} KB`);
  process.exit(1);
}
const secretish = /(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|aws_secret_access_key|Demo-Password-1)/;
for (const entry of readdirSync(join(dist, "assets"))) {
  const text = readFileSync(join(dist, "assets", entry), "utf8");
  const found = text.match(secretish);
  if (found) {
    console.error(`check-bundle: ${entry} holds something secret-looking: ${found[0].slice(0, 12)}…`);
    process.exit(1);
  }
}

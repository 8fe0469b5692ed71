// The build fails if the console calls a route the OpenAPI document lacks: the client is typed
// by path, so such a call is a type error. This proves it on a fixture that calls a missing
// route (it must fail to compile, naming the path) beside one that calls a real route.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const tsc = join("node_modules", ".bin", "tsc");
const args = (file) => ["--noEmit", "--strict", "--module", "ESNext", "--moduleResolution", "Bundler", "--target", "ES2022", "--lib", "ES2022,DOM", "--skipLibCheck", file];

function compiles(file) {
  try {
    execFileSync(tsc, args(file), { stdio: "pipe" });
    return { ok: true, output: "" };
  } catch (error) {
    return { ok: false, output: String(error.stdout) + String(error.stderr) };
  }
}

const good = compiles("tests/fixtures/known-route.ts");
if (!good.ok) {
  console.error("check-client: a call to a documented route failed to compile:\n" + good.output);
  process.exit(1);
}
const bad = compiles("tests/fixtures/unknown-route.ts");
if (bad.ok || !bad.output.includes("/campaigns/{cid}/no-such-route")) {
  console.error("check-client: a call to an undocumented route compiled; the client no longer checks paths.\n" + bad.output);
  process.exit(1);
}

// every call to the API goes through that client: no bare fetch() outside src/api and the
// config loader (the presigned upload goes to S3, not the API, with XMLHttpRequest)
const allowed = new Set(["src/api/client.ts", "src/config.ts"]);
const offenders = [];
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (/\.tsx?$/.test(entry.name) && !allowed.has(path) && !path.endsWith(".gen.ts") && /\bfetch\(/.test(readFileSync(path, "utf8"))) offenders.push(path);
  }
}
walk("src");
if (offenders.length) {
  console.error("check-client: these files call fetch() instead of the typed client: " + offenders.join(", "));
  process.exit(1);
}
console.log("check-client: undocumented routes fail to compile; every API call goes through the typed client");

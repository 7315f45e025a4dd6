// Fails when src/api/schema.d.ts is not what openapi.json generates (run
// `make studio-client` after changing the API, and commit both files).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const fresh = join("node_modules", ".schema-check.d.ts");
execFileSync("npx", ["openapi-typescript", "openapi.json", "-o", fresh], { stdio: "ignore" });
if (readFileSync(fresh, "utf8") !== readFileSync("src/api/schema.d.ts", "utf8")) {
  console.error("src/api/schema.d.ts is stale: run `make studio-client` and commit it");
  process.exit(1);
}
console.log("the API client matches openapi.json");

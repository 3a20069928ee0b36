// Signs a webhook body the way the LiveKit server does, with the real livekit-server-sdk:
// an AccessToken (HS256, iss = API key) carrying sha256 = base64(SHA-256(body)).
//
//   node sign-livekit-webhook.mjs <dir with node_modules> <apiKey> <apiSecret> < body
// (scripts/test runs `npm ci` in examples/e2e, whose package.json pins the SDK)
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, apiKey, apiSecret] = process.argv.slice(2);
const require = createRequire(join(resolve(dir), "package.json"));
const { AccessToken } = await import(pathToFileURL(require.resolve("livekit-server-sdk")).href);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const body = Buffer.concat(chunks);
const token = new AccessToken(apiKey, apiSecret, { ttl: "5m" });
token.sha256 = createHash("sha256").update(body).digest("base64");
process.stdout.write(await token.toJwt());

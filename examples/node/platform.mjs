// The local Dojo platform as a test double: start `dojo-epos platform serve` on a free port,
// call its API with fetch, stop it. Only Node built-ins.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The `dojo-epos` command: $DOJO_EPOS (e.g. the single-file build) or `dojo-epos` on the PATH. */
export const DOJO_EPOS = process.env.DOJO_EPOS || "dojo-epos";

/** Start the platform on a free port with a fresh database; resolves to { url, api, stop }. */
export async function startPlatform({ apiKey, softwareHouseId, timeoutMs = 60_000 }) {
  const dir = mkdtempSync(join(tmpdir(), "dojo-platform-"));
  const child = spawn(DOJO_EPOS, ["platform", "serve", "--port", "0", "--log-level", "warning",
    "--db", `sqlite:///${join(dir, "platform.sqlite3")}`], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`platform did not start:\n${output}`)), timeoutMs);
    const read = (chunk) => {
      output += chunk;
      // It prints "platform on http://127.0.0.1:PORT (dashboard at /dashboard), ..." once it listens.
      const found = /platform on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("error", (err) => { clearTimeout(timer); reject(err); });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`platform exited ${code}:\n${output}`)); });
  });
  const headers = {
    Authorization: `Basic ${apiKey}`, // Dojo's scheme: the API key as is
    "software-house-id": softwareHouseId,
    version: "2026-02-27",
    "content-type": "application/json",
  };
  async function api(method, path, body) {
    // The port is open a moment before the app answers: retry a refused connection briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(url + path, { method, headers, body: body && JSON.stringify(body) });
        const text = await response.text();
        const type = response.headers.get("content-type") || "";
        return { status: response.status, body: type.includes("json") ? JSON.parse(text) : text };
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  async function stop() {
    child.removeAllListeners("exit"); // the start-up's listener: exiting is expected now
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT"); // it stops cleanly on Ctrl-C
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { url, api, stop };
}

/** Poll a tester flow until it is no longer IN_PROGRESS; resolves to its result. */
export async function waitForFlow(api, flowId, { timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await api("GET", `/epos-tester-tool/flows/${flowId}`);
    if (status !== 200) throw new Error(`GET flow ${flowId}: ${status} ${JSON.stringify(body)}`);
    if (body.status !== "IN_PROGRESS") return body;
    if (Date.now() > deadline) throw new Error(`flow ${flowId} still IN_PROGRESS`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

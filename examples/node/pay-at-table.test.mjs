// A Node test suite using the local Dojo platform as a test double for a Node EPOS:
//   node --test examples/node/pay-at-table.test.mjs
// (DOJO_EPOS=/path/to/dojo-epos if the command is not on the PATH). Only Node built-ins.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { OrderBook, serveEpos } from "./epos.mjs";
import { startPlatform, waitForFlow } from "./platform.mjs";

const API_KEY = "sk_sandbox_node_example_0001"; // the local platform takes any well-formed key
const SOFTWARE_HOUSE = "node-house";
const EPOS_AUTH = { username: "dojo", password: "node-example-password" };

let platform;
let epos;

before(async () => {
  [platform, epos] = await Promise.all([
    startPlatform({ apiKey: API_KEY, softwareHouseId: SOFTWARE_HOUSE }),
    serveEpos(new OrderBook(), EPOS_AUTH),
  ]);
});

after(async () => {
  await Promise.all([platform?.stop(), epos?.close()]);
});

test("the EPOS registers its REST endpoint and capabilities", async () => {
  const capabilities = ["SearchOrders", "GetOrderById", "RecordOrderPayment"]
    .map((name) => ({ name, version: "v1" }));
  const { status, body } = await platform.api("PUT", "/epos/integrations/rest", {
    url: epos.url, capabilities, auth: { basic: EPOS_AUTH },
  });
  assert.equal(status, 200, JSON.stringify(body));
  const registered = await platform.api("GET", "/epos/integrations/rest");
  assert.deepEqual(registered.body[0].capabilities.map((c) => c.name).sort(),
    ["GetOrderById", "RecordOrderPayment", "SearchOrders"]);
  assert.ok(!JSON.stringify(registered.body).includes(EPOS_AUTH.password), "the password is never shown");
});

let flowId;

test("Dojo's Pay at Table flow passes against it", async () => {
  const run = await platform.api("POST", "/epos-tester-tool/flows", {
    flow: "Pay at Table", params: { tableId: "T2", splits: 2, tip: 50 },
  });
  assert.equal(run.status, 200, JSON.stringify(run.body));
  flowId = typeof run.body === "string" ? run.body : run.body.flowID;
  const result = await waitForFlow(platform.api, flowId);
  for (const step of result.steps ?? []) console.log(`  ${step.status.padEnd(8)} ${step.name}`);
  assert.equal(result.status, "SUCCESS", JSON.stringify(result, null, 2));
});

test("the run's JUnit report has no failures", async () => {
  const response = await fetch(`${platform.url}/dashboard/flows/${flowId}/junit.xml`);
  assert.equal(response.status, 200);
  const xml = await response.text();
  const suite = /<testsuite\b[^>]*>/.exec(xml)[0];
  console.log(`  ${suite}`);
  assert.match(suite, /failures="0"/);
  assert.match(suite, /errors="0"/);
  assert.ok(Number(/tests="(\d+)"/.exec(suite)[1]) >= 3, suite);
});

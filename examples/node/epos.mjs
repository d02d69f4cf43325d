// A Pay at Table EPOS in plain Node (node:http, no packages): the EPOS REST contract for
// SearchOrders, GetOrderById and RecordOrderPayment, over an in-memory order book.
//
// This stands in for *your* EPOS: in a real suite you would start your own server instead.
// The rules it keeps are the ones Dojo's Pay at Table flow checks: an overpayment is refused,
// a retried payment (same paymentIntentId, same amounts) is counted once, the same
// paymentIntentId with other amounts is refused, and a settled order is no longer payable.
import http from "node:http";

const money = (value) => ({ value, currencyCode: "GBP" });

class Refused extends Error {
  constructor(errorType, message) {
    super(message);
    this.errorType = errorType;
  }
}

const STATUS = { NotFound: 404, InvalidRequest: 400, Conflict: 409, UnexpectedError: 500 };

export class OrderBook {
  constructor() {
    this.orders = new Map();
    for (let n = 1; n <= 4; n++) {
      this.orders.set(`o${n}`, { id: `o${n}`, table: `T${n}`, total: 1000 + 250 * n, payments: [] });
    }
  }

  paid(order) {
    return order.payments.reduce((sum, p) => sum + p.paidAmount.value, 0);
  }

  wire(order) {
    const paid = this.paid(order);
    const tips = order.payments.reduce((sum, p) => sum + (p.tipsAmount?.value ?? 0), 0);
    const body = {
      id: order.id,
      status: "Accepted",
      details: { orderType: "DineIn", dineIn: { tableId: order.table } },
      items: [{ name: "Fish and chips", plu: "F1", quantity: 1, amountPerItem: money(order.total) }],
      totalAmount: money(order.total),
      paidAmount: money(paid),
      payments: order.payments,
      payable: paid < order.total,
      displayName: `Table ${order.table.slice(1)}`,
    };
    if (tips) body.tipsAmount = money(tips);
    return body;
  }

  find(orderId) {
    const order = this.orders.get(String(orderId));
    if (!order) throw new Refused("NotFound", `no order ${orderId}`);
    return order;
  }

  searchOrders(params) {
    const limit = params.cursor?.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new Refused("InvalidRequest", "cursor.limit must be 1 to 100");
    }
    let found = [...this.orders.values()].sort((a, b) => a.id.localeCompare(b.id));
    if (params.payableOnly) found = found.filter((o) => this.paid(o) < o.total);
    const table = params.dineIn?.tableId;
    if (table) found = found.filter((o) => o.table === table);
    const after = params.cursor?.after;
    if (after) found = found.filter((o) => o.id > after);
    const page = found.slice(0, limit);
    const body = { data: page.map((o) => this.wire(o)) };
    if (found.length > limit) body.after = page[page.length - 1].id;
    return body;
  }

  recordOrderPayment(params) {
    const order = this.find(params.orderId);
    const { paymentIntentId: intent, paidAmount: amount, tipsAmount: tips } = params;
    if (typeof intent !== "string" || !Number.isInteger(amount?.value) || amount.currencyCode !== "GBP") {
      throw new Refused("InvalidRequest", "paymentIntentId and paidAmount (GBP, minor units) are needed");
    }
    const payment = { paymentIntentId: intent, paidAmount: money(amount.value) };
    if (Number.isInteger(tips?.value)) payment.tipsAmount = money(tips.value);
    const known = order.payments.find((p) => p.paymentIntentId === intent);
    if (known) {
      if (JSON.stringify(known) === JSON.stringify(payment)) return this.wire(order); // a retry
      throw new Refused("Conflict", `payment ${intent} was recorded with other amounts`);
    }
    const due = order.total - this.paid(order);
    if (amount.value > due) throw new Refused("Conflict", `${amount.value} is more than the ${due} due`);
    order.payments.push(payment);
    return this.wire(order);
  }
}

const ROUTES = [
  ["POST", /^\/v1\/orders\/search$/, (book, params) => book.searchOrders(params)],
  ["GET", /^\/v1\/orders\/([^/]+)$/, (book, params) => book.wire(book.find(params.orderId))],
  ["POST", /^\/v1\/orders\/([^/]+)\/record-payment$/, (book, params) => book.recordOrderPayment(params)],
];

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Serve `book` on 127.0.0.1 (a free port); resolves to { url, close }. */
export function serveEpos(book, { username, password }) {
  const expected = "Basic " + Buffer.from(`${username}:${password}`).toString("base64");
  const server = http.createServer(async (req, res) => {
    if (req.headers.authorization !== expected) {
      return reply(res, 401, { errorType: "InvalidRequest", debugMessage: "who are you?" });
    }
    const path = new URL(req.url, "http://epos").pathname;
    const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(path));
    if (!route) return reply(res, 404, { errorType: "NotFound", debugMessage: `no ${req.method} ${path}` });
    let body = {};
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(res, 400, { errorType: "InvalidRequest", debugMessage: "bad JSON" });
      }
    }
    const match = route[1].exec(path);
    const params = { ...body, ...(match[1] ? { orderId: decodeURIComponent(match[1]) } : {}) };
    try {
      reply(res, 200, route[2](book, params));
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      reply(res, STATUS[err.errorType], { errorType: err.errorType, debugMessage: err.message });
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

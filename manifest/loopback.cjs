// Preloaded with `node --require` into the Agents Playground, which calls server.listen(port) with no host and so
// would listen on every interface. Local mode must never be reachable from another machine (DESIGN.md section 6):
// every TCP listen in this process is forced onto 127.0.0.1. Pipes, Unix sockets and inherited handles are left alone.
"use strict";
const net = require("net");

const LOOPBACK = "127.0.0.1";
const originalListen = net.Server.prototype.listen;

function isPortLike(value) {
  return value === undefined || value === null || typeof value === "number" || /^\d+$/.test(String(value));
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first !== null && typeof first === "object" && !Array.isArray(first)) {
    if (first.path === undefined && first.fd === undefined && first.handle === undefined && !first._handle) {
      args[0] = { ...first, host: LOOPBACK };
    }
  } else if (args.length === 0 || typeof first === "function") {
    args.unshift(0, LOOPBACK);
  } else if (isPortLike(first)) {
    if (typeof args[1] === "string") {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  }
  return originalListen.apply(this, args);
};

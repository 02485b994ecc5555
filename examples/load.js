// @ts-check
/** A small closed-loop HTTP load generator for the demo (plain node:http, keep-alive). */
'use strict';

const http = require('node:http');

/** The example service's routes. */
const ROUTES = ['/report', '/parse', '/hash'];

/**
 * Sends GET requests to the routes in turn from `concurrency` loops until `durationMillis` has
 * passed or `maxRequests` were sent.
 * @param {string} baseUrl e.g. http://127.0.0.1:8080
 * @param {{ durationMillis: number, concurrency: number, maxRequests: number }} options
 * @returns {Promise<{ ok: number, failed: number }>}
 */
async function runLoad(baseUrl, { durationMillis, concurrency, maxRequests }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const deadline = Date.now() + durationMillis;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const loop = async () => {
    while (Date.now() < deadline && sent < maxRequests) {
      const route = ROUTES[sent++ % ROUTES.length];
      const status = await get(new URL(route, baseUrl), agent).catch(() => 0);
      if (status === 200) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  agent.destroy();
  return { ok, failed };
}

/**
 * @param {URL} url
 * @param {http.Agent} agent
 * @returns {Promise<number>} the status code, once the body is read
 */
function get(url, agent) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      })
      .once('error', reject);
  });
}

module.exports = { runLoad, ROUTES };

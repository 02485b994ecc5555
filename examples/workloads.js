// @ts-check
/**
 * The CPU work of the example service's routes. Each route has one hot function with a name found
 * nowhere else, so a profile (and the end-to-end test) can tell which route spent the CPU.
 */
'use strict';

const crypto = require('node:crypto');

/**
 * GET /report: builds an inventory as objects, serializes it and reads it back (JSON-heavy).
 * @param {number} itemCount
 * @returns {{ items: number, bytes: number }}
 */
function buildInventoryReport(itemCount) {
  const items = [];
  for (let i = 0; i < itemCount; i++) {
    items.push({
      sku: `SKU-${i.toString(36).padStart(6, '0')}`,
      name: `Item number ${i}`,
      tags: ['red', 'blue', 'green'].slice(0, (i % 3) + 1),
      stock: { warehouse: i % 7, shelf: i % 13, count: (i * 7919) % 1000 },
      price: Math.round(((i * 31) % 977) * 100) / 100,
    });
  }
  let json = JSON.stringify({ generatedAt: Date.now(), items });
  for (let round = 0; round < 3; round++) {
    const copy = JSON.parse(json);
    copy.round = round;
    json = JSON.stringify(copy);
  }
  return { items: itemCount, bytes: json.length };
}

const ACCESS_LOG_LINE =
  /^(\d+\.\d+\.\d+\.\d+) - - \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\] "(\w+) ([^ ]+) HTTP\/1\.1" (\d{3}) (\d+)$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * GET /parse: formats access-log lines, then parses them back with a regex and Date.parse.
 * @param {number} lineCount
 * @param {number} seed varies the lines between calls
 * @returns {number} lines parsed
 */
function parseAccessLogDates(lineCount, seed) {
  let parsed = 0;
  let latest = 0;
  for (let i = 0; i < lineCount; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const line = `10.0.${seed}.${i % 255} - - [${day}/${MONTHS[i % 12]}/2026:${String(i % 24).padStart(2, '0')}:15:${String(i % 60).padStart(2, '0')} +0000] "GET /items/${i} HTTP/1.1" 200 ${i * 13}`;
    const match = ACCESS_LOG_LINE.exec(line);
    if (!match) continue;
    const [, , dd, mon, yyyy, hh, mm, ss, zone] = match;
    const time = Date.parse(`${dd} ${mon} ${yyyy} ${hh}:${mm}:${ss} ${zone}`);
    if (!Number.isNaN(time)) {
      parsed++;
      latest = Math.max(latest, time);
    }
  }
  return latest > 0 ? parsed : 0;
}

/**
 * GET /hash: a chain of SHA-256 digests, each over the previous one.
 * @param {Buffer} seed
 * @param {number} rounds
 * @returns {Buffer}
 */
function deriveKeyChain(seed, rounds) {
  let digest = seed;
  for (let i = 0; i < rounds; i++) {
    digest = crypto.createHash('sha256').update(digest).update(String(i)).digest();
  }
  return digest;
}

module.exports = { buildInventoryReport, parseAccessLogDates, deriveKeyChain };

/**
 * The raw floor of case 13: a bare NATS responder in its own process that reads the same request bytes a
 * remote node reads (`{ v, t: 'call', calls: [{ module, fn, args }] }`), runs the same 10 functions as
 * the plugin files, and replies `{ answers: [{ ok: true, data }] }`. Plain JSON both ways, nothing else.
 *
 *   node bench/lib/raw-responder.js URL SUBJECT
 */
import { connect } from 'nats';

const [url, subject] = process.argv.slice(2);
const fns = Array.from({ length: 10 }, (_, i) => (a) => a.n + i);
const nc = await connect({ servers: url });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
nc.subscribe(subject, {
  callback: (_err, msg) => {
    const { calls } = JSON.parse(decoder.decode(msg.data));
    msg.respond(encoder.encode(JSON.stringify({ answers: calls.map((c, i) => ({ ok: true, data: fns[i](c.args) })) })));
  },
});
await nc.flush();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void nc.close().then(() => process.exit(0)));

/**
 * `node --import extpoint/register app.js`: records every ES module file the process loads, so that
 * `start()` and `restart()` can walk ES modules as they walk `require.cache`. Without it, only CommonJS
 * modules and modules given to `registerModule` are found.
 */
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { esmRecorder } from './modules/esm-recorder.js';

const { port1, port2 } = new MessageChannel();
esmRecorder().attach(port1);
register('./modules/register-hooks.js', import.meta.url, { data: { port: port2 }, transferList: [port2] });

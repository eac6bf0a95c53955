/**
 * Live updates over Server-Sent Events. One timer per panel, running only while a stream is open, turns
 * the report into JSON text every `intervalMs` and sends it to every stream when it differs from the text
 * sent last. Nothing runs on the call path: the counters are read by the timer, never pushed by calls.
 */
import type { ServerResponse } from 'node:http';

/** The most event streams one panel keeps open; one more gets 503. */
export const MAX_STREAMS = 16;
/** How often the report is compared while a stream is open. */
export const INTERVAL_MS = 500;

export class EventHub {
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  /** The report text sent last, or null when no stream is open. */
  private last: string | null = null;

  /** `snapshot` gives the report as JSON text; it must not throw. */
  constructor(private readonly snapshot: () => string) {}

  /** How many streams are open. */
  get size(): number {
    return this.streams.size;
  }

  /** Whether the timer is running (only while a stream is open). */
  get ticking(): boolean {
    return this.timer !== null;
  }

  /** Takes `res` as an event stream, or answers 503 when `MAX_STREAMS` are open. */
  open(res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      res.end(`too many panel event streams (at most ${MAX_STREAMS}); close a panel tab\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.streams.add(res);
    res.on('close', () => this.drop(res));
    const text = this.snapshot();
    if (text !== this.last) this.broadcast(text);
    else send(res, text);
    this.timer ??= setInterval(() => this.tick(), INTERVAL_MS).unref();
  }

  /** Ends every stream and stops the timer. */
  closeAll(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.stop();
  }

  private drop(res: ServerResponse): void {
    this.streams.delete(res);
    if (this.streams.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.last = null;
  }

  private tick(): void {
    const text = this.snapshot();
    if (text !== this.last) this.broadcast(text);
  }

  private broadcast(text: string): void {
    this.last = text;
    for (const res of this.streams) send(res, text);
  }
}

/** One `report` event; JSON text holds no raw newline, so one `data:` line carries it. */
function send(res: ServerResponse, text: string): void {
  res.write(`event: report\ndata: ${text}\n\n`);
}

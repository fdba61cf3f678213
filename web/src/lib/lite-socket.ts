/**
 * A small Socket.IO client (Engine.IO v4 + Socket.IO v5 protocol, WebSocket transport, default namespace):
 * events, acknowledgements with timeouts, heartbeat replies, reconnection with backoff and a send buffer.
 * It replaces socket.io-client (~13 KB gzipped) to keep the poll page under its 60 KB budget; the server
 * is the stock Socket.IO server. Not supported (not used here): binary payloads, long-polling, namespaces.
 */
type Fn = (...args: never[]) => void;

type Reserved = { connect: () => void; disconnect: (reason: string) => void; connect_error: (err: unknown) => void };
type Last<T extends unknown[]> = T extends [...unknown[], infer L] ? L : never;
type Init<T extends unknown[]> = T extends [...infer I, unknown] ? I : never;
type AckArg<F> = F extends (res: infer R) => void ? R : never;

export class LiteSocket<S extends { [K in keyof S]: Fn }, C extends { [K in keyof C]: Fn }> {
  connected = false;
  #url: string;
  #ws: WebSocket | null = null;
  #listeners = new Map<string, Set<Fn>>();
  #acks = new Map<number, (...args: unknown[]) => void>();
  #nextAck = 0;
  #wanted = true;
  #attempt = 0;
  #buffer: string[] = [];
  #heartbeat: ReturnType<typeof setTimeout> | undefined;
  #heartbeatMs = 45_000;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string) {
    this.#url = url;
    this.#open();
  }

  on<E extends keyof (S & Reserved) & string>(event: E, fn: (S & Reserved)[E]): this {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(fn as Fn);
    return this;
  }

  off<E extends keyof (S & Reserved) & string>(event: E, fn: (S & Reserved)[E]): this {
    this.#listeners.get(event)?.delete(fn as Fn);
    return this;
  }

  /** Emit an event; a function as the last argument receives the server's acknowledgement. */
  emit<E extends keyof C & string>(event: E, ...args: Parameters<C[E]>): this {
    const list = [...(args as unknown[])];
    let id = '';
    if (typeof list[list.length - 1] === 'function') {
      const n = this.#nextAck++;
      this.#acks.set(n, list.pop() as (...a: unknown[]) => void);
      id = String(n);
    }
    const packet = `42${id}${JSON.stringify([event, ...list])}`;
    if (this.connected && this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(packet);
    else this.#buffer.push(packet);
    return this;
  }

  /** `socket.timeout(ms).emit(event, ...args, (err, res) => …)`: err is an Error when no ack came in time. */
  timeout(ms: number) {
    return {
      emit: <E extends keyof C & string>(event: E, ...args: [...Init<Parameters<C[E]>>, (err: Error | null, res?: AckArg<Last<Parameters<C[E]>>>) => void]) => {
        const cb = args.pop() as (err: Error | null, res?: unknown) => void;
        let done = false;
        const timer = setTimeout(() => {
          if (done) return;
          done = true;
          cb(new Error('operation has timed out'));
        }, ms);
        const ack = (res: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          cb(null, res);
        };
        return this.emit(event, ...([...args, ack] as unknown as Parameters<C[E]>));
      },
    };
  }

  disconnect(): this {
    this.#wanted = false;
    clearTimeout(this.#retry);
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send('41');
    this.#ws?.close();
    this.#closed('io client disconnect');
    return this;
  }

  connect(): this {
    this.#wanted = true;
    if (!this.#ws) this.#open();
    return this;
  }

  #fire(event: string, ...args: unknown[]) {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) (fn as (...a: unknown[]) => void)(...args);
  }

  #open() {
    clearTimeout(this.#retry);
    const u = new URL(this.#url, location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = '/socket.io/';
    u.search = '?EIO=4&transport=websocket';
    const ws = new WebSocket(u);
    this.#ws = ws;
    ws.onmessage = (e) => {
      if (this.#ws === ws && typeof e.data === 'string') this.#packet(e.data);
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#closed('transport close');
      if (this.#wanted) {
        const delay = Math.min(5_000, 500 * 2 ** this.#attempt++) * (0.75 + Math.random() / 2);
        this.#retry = setTimeout(() => this.#wanted && !this.#ws && this.#open(), delay);
      }
    };
  }

  #closed(reason: string) {
    clearTimeout(this.#heartbeat);
    if (!this.connected) return;
    this.connected = false;
    this.#acks.clear(); // pending acks are dropped (timeout() callers get their timeout error)
    this.#fire('disconnect', reason);
  }

  #armHeartbeat() {
    clearTimeout(this.#heartbeat);
    // the server pings every pingInterval; no ping within pingInterval + pingTimeout means the link is dead
    this.#heartbeat = setTimeout(() => this.#ws?.close(), this.#heartbeatMs);
  }

  #packet(p: string) {
    const ws = this.#ws!;
    switch (p[0]) {
      case '0': {
        const h = JSON.parse(p.slice(1)) as { pingInterval?: number; pingTimeout?: number };
        this.#heartbeatMs = (h.pingInterval ?? 25_000) + (h.pingTimeout ?? 20_000);
        this.#armHeartbeat();
        ws.send('40');
        return;
      }
      case '2':
        ws.send('3');
        this.#armHeartbeat();
        return;
      case '1':
        ws.close();
        return;
      case '4':
        return this.#message(p.slice(1));
    }
  }

  #message(p: string) {
    const type = p[0];
    let i = 1;
    while (i < p.length && p[i] >= '0' && p[i] <= '9') i++;
    const id = p.slice(1, i);
    let data: unknown;
    try {
      data = i < p.length ? JSON.parse(p.slice(i)) : undefined;
    } catch {
      // a frame that is not JSON is not from our server: ignore it like an unknown event
      return;
    }
    switch (type) {
      case '0': // CONNECT
        this.connected = true;
        this.#attempt = 0;
        for (const packet of this.#buffer.splice(0)) this.#ws!.send(packet);
        this.#fire('connect');
        return;
      case '1': // DISCONNECT by the server
        this.#ws?.close();
        return;
      case '2': // EVENT (a trailing string may be a recovery offset: listeners ignore extra args)
        if (Array.isArray(data) && typeof data[0] === 'string') this.#fire(data[0], ...data.slice(1));
        return;
      case '3': { // ACK
        const ack = this.#acks.get(Number(id));
        this.#acks.delete(Number(id));
        if (ack && Array.isArray(data)) ack(...data);
        return;
      }
      case '4': // CONNECT_ERROR
        this.#fire('connect_error', data);
        this.#ws?.close();
        return;
    }
  }
}

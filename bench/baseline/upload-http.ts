// Baseline for Our City's report intake: a bare node:http server that reads the whole multipart body with
// the same parser (busboy) the platform uses, keeps the files in memory and answers 201 — the upload itself,
// with no image processing, storage or database.
import { createServer } from 'node:http';
import busboy from 'busboy';

const body = Buffer.from('{"ok":true}');
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const bb = busboy({ headers: req.headers });
  let bytes = 0;
  bb.on('file', (_name, stream) => stream.on('data', (c: Buffer) => (bytes += c.length)));
  bb.on('field', () => {});
  bb.on('close', () => {
    res.writeHead(bytes > 0 ? 201 : 400, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  req.pipe(bb);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send?.({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
process.on('disconnect', () => process.exit(0));

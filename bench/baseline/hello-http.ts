// Baseline: the bare node:http hello-world the vote route is compared with. Reads (and discards) the
// body like a real handler must, answers 201 with a tiny JSON body, keep-alive like the real server.
import { createServer } from 'node:http';

const body = Buffer.from('{"ok":true}');
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
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

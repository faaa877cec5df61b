/**
 * The machine's HTTP ceiling for the create-payment load: a bare `node:http` server that reads the body,
 * parses it and answers a 201 with a small JSON body, storing nothing. bench/run.ts drives it with the
 * same load process as Kassa and Prism, so the three create figures share one reference.
 */
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { reference?: string };
    const answer = JSON.stringify({ reference: body.reference, redirectUrl: `http://127.0.0.1/landing?token=${body.reference}` });
    response.writeHead(201, { 'content-type': 'application/json' }).end(answer);
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));

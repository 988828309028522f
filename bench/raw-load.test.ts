import { createServer } from 'node:http';
import { expect } from 'chai';
import { rawLoad, responseEnd } from './raw-load.ts';

describe('raw-load (the benchmarks\' lean HTTP/1.1 generator)', function () {
  it('finds the end of Content-Length, chunked and bodiless responses, and waits for incomplete ones', function () {
    const fixed = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1');
    expect(responseEnd(fixed)).to.deep.equal({ end: fixed.indexOf('HTTP/1.1', 10), status: 200 });
    expect(responseEnd(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel'))).to.equal(undefined);
    expect(responseEnd(Buffer.from('HTTP/1.1 503 Service Unavailable\r\ncontent-le'))).to.equal(undefined);
    const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(responseEnd(chunked)).to.deep.equal({ end: chunked.length, status: 200 });
    expect(responseEnd(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'))).to.equal(undefined);
    const empty = Buffer.from('HTTP/1.1 204 No Content\r\n\r\n');
    expect(responseEnd(empty)).to.deep.equal({ end: empty.length, status: 204 });
  });

  it('counts every response of a real server, and non-2xx answers as errors', async function () {
    let served = 0;
    const server = createServer((req, res) => {
      served += 1;
      res.writeHead(req.url === '/fail' ? 503 : 200, { 'content-length': '2' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const ok = await rawLoad(port, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', 2, 200);
      expect(ok.requests).to.be.greaterThan(10);
      expect(ok.errors).to.equal(0);
      const failing = await rawLoad(port, 'GET /fail HTTP/1.1\r\nhost: x\r\n\r\n', 1, 100);
      expect(failing.errors).to.equal(failing.requests).and.be.greaterThan(0);
      expect(served).to.equal(ok.requests + failing.requests);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

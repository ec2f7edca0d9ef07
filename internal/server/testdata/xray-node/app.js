// An HTTP service instrumented with the X-Ray SDK for Node (aws-xray-sdk-core), as people
// write one. lookout's end-to-end test runs it with AWS_XRAY_DAEMON_ADDRESS pointing at
// lookout's daemon endpoint: the SDK pulls its sampling rules and targets from lookout over
// TCP and sends segments over UDP. It calls itself for the given seconds and prints one JSON
// line per request: {"trace": "1-...", "sampled": true|false}.
const http = require('http');
const AWSXRay = require('aws-xray-sdk-core');

AWSXRay.setContextMissingStrategy('LOG_ERROR');
AWSXRay.middleware.setDefaultName('node-orders');

const server = http.createServer((req, res) => {
  const segment = AWSXRay.middleware.traceRequestResponseCycle(req, res);
  segment.addAnnotation('order_id', 'o-9');
  segment.addMetadata('cart', { items: 2 });
  const inventory = segment.addNewSubsegment('inventory');
  const reserve = inventory.addNewSubsegment('reserve');
  reserve.addError(new Error('out of stock'));
  reserve.close();
  inventory.close();
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ trace: segment.trace_id, sampled: !segment.notTraced }));
});

server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const deadline = Date.now() + 1000 * Number(process.argv[2] || 10);
  while (Date.now() < deadline) {
    const body = await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/orders' }, (r) => {
        let data = '';
        r.on('data', (c) => { data += c; });
        r.on('end', () => resolve(data));
      }).on('error', reject);
    });
    process.stdout.write(`${body}\n`);
    await new Promise((r) => setTimeout(r, 200));
  }
  server.close();
});

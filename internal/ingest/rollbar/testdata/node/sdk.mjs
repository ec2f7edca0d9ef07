// Reports to lookout with the npm rollbar SDK, changing only its endpoint; each outcome is
// printed as a JSON line for sdk_node_test.go to check.
//   LOOKOUT_ENDPOINT=http://127.0.0.1:PORT/api/1/item/ ROLLBAR_TOKEN=... node sdk.mjs report|ratelimit
import Rollbar from 'rollbar';

const rollbar = new Rollbar({
  accessToken: process.env.ROLLBAR_TOKEN,
  endpoint: process.env.LOOKOUT_ENDPOINT,
  environment: 'production',
  codeVersion: 'deadbeef',
  root: process.cwd(),
  captureUncaught: false,
  captureUnhandledRejections: false,
  verbose: false,
});

const send = (n, fn) => new Promise((resolve) => fn((err, resp) => {
  console.log(JSON.stringify({ n, err: err ? String(err.message || err) : null, uuid: resp && resp.uuid }));
  resolve();
}));

function charge() {
  throw new TypeError("Cannot read properties of undefined (reading 'id')");
}

function pay() {
  try {
    charge();
  } catch (inner) {
    throw new Error('payment failed', { cause: inner });
  }
}

const request = {
  method: 'POST',
  url: '/pay/7?q=1',
  protocol: 'http',
  headers: { host: 'shop.example', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' },
  socket: { remoteAddress: '::ffff:127.0.0.1' },
};

if (process.argv[2] === 'report') {
  try {
    pay();
  } catch (err) {
    await send('error', (cb) => rollbar.error(err, request, cb));
  }
  await send('message', (cb) => rollbar.info('user signed up', { plan: 'pro' }, cb));
} else {
  for (const n of ['first', 'second', 'third']) {
    await send(n, (cb) => rollbar.info(`signup ${n}`, cb));
  }
}
await new Promise((resolve) => rollbar.wait(resolve));

// Drives lookout's CloudWatch Logs API with the AWS SDK for JavaScript v3, as an application
// would with only its endpoint changed (LOOKOUT_ENDPOINT), and prints what it saw as JSON.
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand, FilterLogEventsCommand,
  GetQueryResultsCommand, StartLiveTailCommand, StartQueryCommand, paginateGetLogEvents,
} from '@aws-sdk/client-cloudwatch-logs';

process.removeAllListeners('warning'); // the SDK's notice about future Node versions
const client = new CloudWatchLogsClient({
  endpoint: process.env.LOOKOUT_ENDPOINT, region: 'eu-west-1', disableHostPrefix: true, maxAttempts: 1,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const logGroupName = 'js', logStreamName = 'web/1';
const seen = {};
const send = (cmd) => client.send(cmd);

await send(new CreateLogGroupCommand({ logGroupName }));
try {
  await send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: [{ timestamp: Date.now(), message: 'early' }] }));
} catch (err) {
  seen.missingStream = err.name;
}
await send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
const now = Date.now();
const messages = ['GET /a 200', 'GET /b 500', '{"status":503}', 'POST /c 201'];
await send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: messages.map((message, i) => ({ timestamp: now - 10 + i, message })) }));

// Every page of the stream, oldest first, as the SDK's paginator reads them: with
// stopOnSameToken it stops when lookout hands back the token it was given, at the end.
seen.paged = [];
for (let tries = 0; seen.paged.length < messages.length && tries < 100; tries++) {
  seen.paged = [];
  for await (const page of paginateGetLogEvents({ client, pageSize: 1, stopOnSameToken: true }, { logGroupName, logStreamName, startFromHead: true, limit: 1 })) {
    seen.paged.push(...page.events.map((e) => e.message));
  }
  if (seen.paged.length < messages.length) await new Promise((r) => setTimeout(r, 50));
}
const filtered = await send(new FilterLogEventsCommand({ logGroupName, filterPattern: '?500 ?503' }));
seen.filtered = filtered.events.map((e) => e.message);

const { queryId } = await send(new StartQueryCommand({ logGroupName, queryString: 'stats count(*) as n', startTime: Math.floor(now / 1000) - 60, endTime: Math.floor(now / 1000) + 60 }));
let result;
do {
  result = await send(new GetQueryResultsCommand({ queryId }));
} while (result.status === 'Running');
seen.query = { status: result.status, rows: result.results.map((row) => row.map((f) => `${f.field}=${f.value}`)) };

const tail = await send(new StartLiveTailCommand({ logGroupIdentifiers: [logGroupName], logEventFilterPattern: 'LIVE' }));
seen.tail = [];
setTimeout(() => send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: [{ timestamp: Date.now(), message: 'LIVE from js' }] })), 300);
for await (const event of tail.responseStream) {
  if (event.sessionStart) seen.tail.push('sessionStart');
  if (event.sessionUpdate && event.sessionUpdate.sessionResults.length) {
    seen.tail.push(...event.sessionUpdate.sessionResults.map((r) => r.message));
    break;
  }
}
console.log(JSON.stringify(seen));
process.exit(0);

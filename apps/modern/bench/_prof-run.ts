import { fork } from 'node:child_process';
import autocannon from 'autocannon';
const [kind = "modern", path = "/health", method, body] = process.argv.slice(2);
const child = fork(new URL('./server.ts', import.meta.url).pathname, [kind], { execArgv: ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const { url } = await new Promise<any>((r) => child.once('message', r));
const res = await autocannon({ url: url + path, method: (method ?? 'GET') as 'GET', body, headers: body ? { 'content-type': 'application/json' } : {}, connections: 50, duration: 15 });
console.log(kind, path, res.requests.average, res.non2xx);
child.disconnect();
await new Promise((r) => child.once('exit', r));

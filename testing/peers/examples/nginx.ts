import { nginxConfig, startPeer } from '@tether/peers';

const nginx = await startPeer({
  kind: 'nginx',
  // nginxConfig adds the one-process, everything-in-the-temp-dir part around the http block.
  config: (place) =>
    nginxConfig(
      place,
      `  server {
    listen 127.0.0.1:${place.port};
    location / { return 200 "hello $uri\\n"; }
  }`,
    ),
  ready: { path: '/ready', body: 'hello /ready\n' },
});
try {
  console.log(await (await fetch(`${nginx.origin}/x`)).text());
} finally {
  await nginx.stop(); // SIGTERM (then SIGKILL) to nginx.pid; removes nginx.dir
}

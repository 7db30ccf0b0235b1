// The peer of bench/run: what a user would write with the official `openai` SDK
// instead of vidbatch. Submits N videos with p-limit concurrency, polls each one
// with client.videos.retrieve until it ends, downloads it with
// client.videos.downloadContent. No persistence (vidbatch persists every transition).
//
// usage: node peer.mjs --base-url http://127.0.0.1:PORT/v1 --n 1000 --concurrency 64
//                      --poll-ms 200 --out DIR
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import OpenAI from 'openai';
import pLimit from 'p-limit';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const baseURL = arg('base-url', 'http://127.0.0.1:8080/v1');
const n = Number(arg('n', '100'));
const concurrency = Number(arg('concurrency', '64'));
const pollMs = Number(arg('poll-ms', '200'));
const outDir = arg('out', 'peer-out');
fs.mkdirSync(outDir, { recursive: true });

const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'sim-bench-key', maxRetries: 5 });
const limit = pLimit(concurrency);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function one(i) {
  let video = await client.videos.create({
    model: 'sora-2',
    prompt: `bench clip ${i}: a paper boat drifting down a gutter stream after a summer storm`,
    seconds: '4',
    size: '1280x720',
  });
  while (video.status === 'queued' || video.status === 'in_progress') {
    await sleep(pollMs);
    video = await client.videos.retrieve(video.id);
  }
  if (video.status !== 'completed') {
    return { ok: false, polls: 0 };
  }
  const response = await client.videos.downloadContent(video.id);
  await pipeline(Readable.fromWeb(response.body), fs.createWriteStream(path.join(outDir, `${i}.mp4`)));
  return { ok: true };
}

const started = Date.now();
const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => limit(() => one(i))));
const ok = results.filter((r) => r.status === 'fulfilled' && r.value.ok).length;
const errors = results.filter((r) => r.status === 'rejected');
if (errors.length) console.error('peer: first error:', errors[0].reason?.message ?? errors[0].reason);
console.log(`peer: ${ok}/${n} downloaded in ${((Date.now() - started) / 1000).toFixed(2)} s`);
process.exit(ok === n ? 0 : 1);

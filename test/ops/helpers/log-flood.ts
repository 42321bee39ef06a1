// A process that logs far more than its stdout pipe and log buffer hold, through the server's
// log destination, then reports on fd 3 and exits when its stdin closes.
// test/ops/log-destination.test.ts never reads the pipe until the report arrives.
import { writeSync } from 'node:fs';
import { pino } from 'pino';
import { closeLogDestination, createLogDestination } from '../../../src/ops/log-destination.js';

const LINES = Number(process.env.LINES);
let drops = 0;
const stream = createLogDestination({ maxBytes: Number(process.env.MAX_BYTES), onDrop: () => drops++ });
const logger = pino({ base: null, timestamp: false }, stream);
const text = 'x'.repeat(200);
for (let i = 0; i < LINES; i++) logger.info({ i }, text);
// A timer firing proves the event loop still turns while the reader is stuck.
setTimeout(() => writeSync(3, `${JSON.stringify({ drops })}\n`), 20);
process.stdin.resume();
// The way src/main.ts exits after a drain.
process.stdin.on('end', () => void closeLogDestination(stream, 10_000).then(() => process.exit(0)));

export { createJobQueue, type JobQueue, type JobHandler, type EnqueueOptions, type JobQueueOptions } from './queue.js';
export { registerCleanupJob, CLEANUP_JOB } from './cleanup.js';
export { computeBackoffMs, planRetry, DEFAULT_RETRY, type RetryPolicy } from './jobs.core.js';

import type { CacheBus, Invalidation } from './invalidation-bus.js';

/** Single-instance bus: delivers synchronously to this process's subscribers. */
export function createInProcessBus(): CacheBus {
  const handlers: Array<(m: Invalidation) => void> = [];
  return {
    async publish(message) {
      for (const handler of handlers) handler(message);
    },
    subscribe(handler) {
      handlers.push(handler);
    },
    isHealthy: () => true,
    async close() {
      handlers.length = 0;
    },
  };
}

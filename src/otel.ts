// OpenTelemetry entry point (`flo-rx/otel`): spans for requests, producers and consumers. Needs
// `@opentelemetry/api` (an optional peer dependency) and Node (diagnostics_channel).
export { floOtel, type FloOtel, type FloOtelOptions } from './observability/otel.js';
export type { ClientTelemetry, DeliveredItem } from './observability/telemetry.js';
